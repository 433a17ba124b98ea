"""One outcome to tell a user, and the Discord facts that telling it must respect: the answer
codes that route it elsewhere, the network failures discord.py lets through, and the upload and
whole-request caps a file must fit."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Literal

import aiohttp
import discord

from hh_bot.jobs.model import Job, JobState

REQUEST_CAP = 25 * 1024 * 1024  # Discord's whole-request cap (the upload limit when higher)
REQUEST_OVERHEAD = 64 * 1024  # the JSON payload and multipart framing beside the file
TOKEN_GONE = {50027, 10015, 10062}  # the interaction token can't be used any more
TOO_LARGE = {40005}
# The reply takes no more edits: deleted (10008), or too many edits of messages older than an
# hour (30046); what is left to say is posted instead.
NO_MORE_EDITS = {10008, 30046}
# What discord.py lets through when no HTTP answer came (TimeoutError is an OSError).
TRANSPORT: tuple[type[BaseException], ...] = (aiohttp.ClientError, OSError)
UNREACHED: tuple[type[BaseException], ...] = (discord.HTTPException, *TRANSPORT)


def code_of(error: discord.HTTPException) -> int:
    return error.code or (40005 if error.status == 413 else 0)


def upload_allowance(limit: int) -> int:
    """The largest file one request can carry under upload limit ``limit``: the file within
    the limit, and the whole request (file and overhead) within Discord's request cap."""
    return min(limit, max(REQUEST_CAP, limit) - REQUEST_OVERHEAD)


def poster_filename(job_id: str) -> str:
    """The name of the still shown beside a link (never taken for the video on a repeat)."""
    return f"hh-{job_id}-poster.jpg"


def video_filename(job_id: str, *, fitted: bool = False) -> str:
    """The upload's name: a copy fitted to the route's limit is named apart from the original
    (how a repeat after a restart knows which one landed)."""
    return f"hh-{job_id}-fitted.mp4" if fitted else f"hh-{job_id}.mp4"


def mention(job: Job) -> discord.AllowedMentions:
    """Ping the job's owner and nobody else."""
    return discord.AllowedMentions(users=[discord.Object(job.user_id)], everyone=False, roles=False)


Shown = Literal["link", "file", "fitted"]
"""What a message shows of the video: the link only, the original file, or a copy fitted to
the route's limit (the link to the original beside it)."""


@dataclass(frozen=True)
class Upload:
    """A file for one route, opened for one request."""

    file: discord.File
    shown: Shown
    size: int


async def no_file(_limit: int) -> Upload | None:
    return None


@dataclass(frozen=True)
class Notice:
    """One outcome to tell a user, whichever route it takes."""

    state: JobState  # the final state the embed shows (how a repeat recognises it)
    embed: discord.Embed
    view: discord.ui.View | None
    text: Callable[[Shown], str]  # the message content, given what is attached
    # A file within the route's upload limit (the original, or a copy fitted to the limit,
    # which may take an encode), else None: the link only.
    file: Callable[[int], Awaitable[Upload | None]]
    last_resort: str  # content for the reply itself when no message can be posted
    filename: str | None = None  # the video's file name, when the notice carries one
    fitted_filename: str | None = None  # the name of a copy fitted to a route's limit
    # A still of the video within the route's limit, shown beside the link (``shown`` "link").
    poster: Callable[[int], Awaitable[Upload | None]] = no_file
    # The same notice built again in the current locale: a DM speaks the user's language
    # where the channel post spoke the server's (None: it is sent as it is).
    remake: Callable[[], Notice] | None = None

    def shown_by(self, filenames: list[str]) -> Shown | None:
        """What a message with attachments named ``filenames`` shows of the video, if any."""
        if self.filename is not None and self.filename in filenames:
            return "file"
        if self.fitted_filename is not None and self.fitted_filename in filenames:
            return "fitted"
        return None
