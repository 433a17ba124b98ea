"""The notice that carries a finished video, and the uploads it offers each route.

Each route asks for a file within its upload limit (``Notice.file(limit)``): the core hands the
original when it fits (byte-identical), else a copy fitted to the limit, else nothing (the link
only). A fitted copy goes out with the original's link and its expiry beside it; the text says
which of the three the message shows. A link goes out with a poster (a small still of the
video) when the core could make one, and says so when a smaller copy was tried and failed.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator, Sequence

import discord

from cogs.notice import (
    Notice,
    Shown,
    Upload,
    poster_filename,
    upload_allowance,
    video_filename,
)
from cogs.ui import strings as s
from cogs.ui.buttons import result_view
from cogs.ui.embeds import job_embed
from hh_bot.jobs.delivery import VideoResult
from hh_bot.jobs.model import Job, JobState


def video_notice(job: Job, result: VideoResult) -> Notice:
    expires = s.relative(result.url_expires_at)
    unknown_size = s.READY_LINK_UNKNOWN_SIZE.format(
        user_id=job.user_id, url=result.url, expires=expires
    )

    def text(shown: Shown) -> str:
        if shown == "file":
            return s.READY.format(user_id=job.user_id)
        if result.size is None:
            return unknown_size
        size = s.human_size(result.size)
        wording = s.READY_FITTED if shown == "fitted" else s.READY_LINK
        if shown == "link" and result.fit_failed:
            wording = s.READY_LINK_FIT_FAILED
        return wording.format(user_id=job.user_id, url=result.url, expires=expires, size=size)

    async def file(limit: int) -> Upload | None:
        path = await result.upload_file(upload_allowance(limit))
        if path is None:
            return None
        if path == result.file and result.size is not None:
            shown: Shown = "file"
            size = result.size
        else:
            shown = "fitted"
            size = (await asyncio.to_thread(path.stat)).st_size
        name = video_filename(job.id, fitted=shown == "fitted")
        return Upload(discord.File(path, filename=name), shown, size)

    async def poster(limit: int) -> Upload | None:
        path = await result.poster_file(upload_allowance(limit))
        if path is None:
            return None
        size = (await asyncio.to_thread(path.stat)).st_size
        return Upload(discord.File(path, filename=poster_filename(job.id)), "link", size)

    return Notice(
        state=JobState.DONE,
        embed=job_embed(job.with_changes(job.updated_at, state=JobState.DONE, progress=100)),
        view=result_view(job.id),
        text=text,
        file=file,
        last_resort=unknown_size,
        filename=video_filename(job.id),
        fitted_filename=video_filename(job.id, fitted=True),
        poster=poster,
        remake=lambda: video_notice(job, result),
    )


async def uploads(notice: Notice, limits: Sequence[int]) -> AsyncGenerator[Upload | None]:
    """What to try on a route, in turn: the file for its limit, then (a 413 on it) for each
    smaller limit that follows, each file smaller than the one refused before; then the link
    with a poster (when there is one within the smallest limit); last, None (the bare link).
    Each is made only when the one before was refused: a fit runs only if needed."""
    refused: int | None = None
    previous: int | None = None
    for limit in limits:
        if previous is not None and limit >= previous:
            continue
        previous = limit
        upload = await notice.file(limit)
        if upload is None:
            break
        if refused is not None and upload.size >= refused:
            upload.file.close()
            continue
        yield upload
        refused = upload.size
    if limits:
        still = await notice.poster(min(limits))
        if still is not None:
            yield still
    yield None
