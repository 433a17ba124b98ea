"""/show job:<id>: post a finished job's video again in the current channel, with its buttons.

The owner may show their own jobs, an admin any job of the server. The video comes from the
archive of originals when it has one (fitted to this channel's upload limit like a delivery,
``VideoResult.upload_file``), so a result outlives the API's 24-hour link; else the API's link
while it lives; else the member is told the video is gone and offered Retry. Every refusal
(unknown id, another member's or another server's job, a job without a video) is private and
answered before anything is deferred or uploaded.

Autocomplete offers the member's recent finished jobs on this server: id, age and the start of
the prompt, within Discord's 25 choices of 100 characters.
"""

from __future__ import annotations

import contextlib
import logging
import re
from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from cogs.notice import TOO_LARGE, code_of, upload_allowance, video_filename
from cogs.ui import strings as s
from cogs.ui.buttons import result_view
from cogs.ui.embeds import job_embed
from cogs.ui.permissions import is_admin
from hh_bot.errors import NotAllowed
from hh_bot.jobs.delivery import VideoResult, link_expiry
from hh_bot.jobs.fitting import FittedCopies
from hh_bot.jobs.model import Job, JobState

if TYPE_CHECKING:
    from bot import HHBot

log = logging.getLogger(__name__)
Interaction = discord.Interaction["HHBot"]
JOB_ID = re.compile(r"[0-9a-f]{6,32}")
MAX_CHOICES = 25  # Discord's limits on autocomplete: 25 choices, names of 1–100 characters
CHOICE_NAME = 100
RECENT = 50  # jobs read for the choices (unfinished and failed ones are skipped)
LINK_MARGIN = 300.0  # a link that dies within five minutes is as good as dead for a re-post


def show_view(job_id: str) -> discord.ui.View:
    """The buttons a shown result carries: the same as on the delivered result (Retry, Remix,
    Continue, Parameters, Delete), so an expired job can be retried from here."""
    return result_view(job_id)


def age_text(seconds: float) -> str:
    minutes = int(max(0.0, seconds) // 60)
    if minutes < 60:
        return s.SHOW_AGE_MINUTES.format(n=max(1, minutes))
    if minutes < 24 * 60:
        return s.SHOW_AGE_HOURS.format(n=minutes // 60)
    return s.SHOW_AGE_DAYS.format(n=minutes // (24 * 60))


def choice_name(job: Job, now: float) -> str:
    """ "<id> · <age> · <prompt…>", the prompt cut to fit Discord's 100 characters."""
    prompt = " ".join(job.params.prompt.split())
    head = s.SHOW_CHOICE.format(job_id=job.id, age=age_text(now - job.created_at), prompt="")
    room = CHOICE_NAME - len(head)
    if len(prompt) > room:
        prompt = prompt[: max(0, room - 1)] + "…"
    return (head + prompt)[:CHOICE_NAME]


class ShowCog(commands.Cog):
    def __init__(self, bot: HHBot) -> None:
        self.bot = bot

    @app_commands.command(name="show", description=s.SHOW_DESC)
    @app_commands.guild_only()
    @app_commands.describe(job=s.SHOW_JOB_DESC)
    async def show(self, interaction: Interaction, job: app_commands.Range[str, 1, 64]) -> None:
        if interaction.guild_id is None:
            raise NotAllowed("dm")
        job_id = job.strip().lower()
        found = await self.bot.services.store.get_job(job_id) if JOB_ID.fullmatch(job_id) else None
        refusal = await self._refusal(interaction, found, job_id)
        if refusal is not None or found is None:
            await interaction.response.send_message(refusal, ephemeral=True)
            return
        await interaction.response.defer(ephemeral=True, thinking=True)
        await self._post(interaction, found)

    @show.autocomplete("job")
    async def job_choices(
        self, interaction: Interaction, current: str
    ) -> list[app_commands.Choice[str]]:
        services = self.bot.services
        now = services.clock.now()
        needle = current.strip().lower()
        choices: list[app_commands.Choice[str]] = []
        for job in await services.store.user_jobs(interaction.user.id, limit=RECENT):
            if job.guild_id != interaction.guild_id or job.state is not JobState.DONE:
                continue
            if needle and needle not in job.id and needle not in job.params.prompt.lower():
                continue
            choices.append(app_commands.Choice(name=choice_name(job, now), value=job.id))
            if len(choices) == MAX_CHOICES:
                break
        return choices

    async def _refusal(self, interaction: Interaction, job: Job | None, job_id: str) -> str | None:
        """Why this member may not show this job here, or None."""
        shown_id = discord.utils.escape_markdown(job_id[:32])
        if job is None:
            return s.SHOW_UNKNOWN.format(job_id=shown_id)
        if job.guild_id != interaction.guild_id:
            return s.SHOW_OTHER_SERVER.format(job_id=job.id)
        if job.user_id != interaction.user.id and not await is_admin(interaction):
            return s.SHOW_NOT_YOURS.format(job_id=job.id)
        if not job.state.final:
            return s.SHOW_UNFINISHED.format(job_id=job.id, state=s.STATE_LABEL[job.state])
        if job.state is not JobState.DONE:
            return s.SHOW_NO_VIDEO.format(job_id=job.id, state=s.STATE_LABEL[job.state])
        return None

    async def _post(self, interaction: Interaction, job: Job) -> None:
        """The archived original (or a copy fitted to this channel), else the live link, else
        the news that the video is gone."""
        services = self.bot.services
        now = services.clock.now()
        ended = job.completed_at or job.finished_at or job.updated_at
        expires = link_expiry(job.result_url, ended) if job.result_url else ended
        link_alive = job.result_url is not None and expires > now + LINK_MARGIN
        archived = await services.archive.get(job.id) if services.archive is not None else None
        limit = upload_allowance(interaction.filesize_limit)
        copies = None
        if archived is not None and archived.size > limit and services.fitter is not None:
            copies = FittedCopies(services.fitter, archived.path, archived.size, label=job.id)
        try:
            video = VideoResult(
                url=job.result_url or "",
                url_expires_at=expires,
                file=archived.path if archived else None,
                size=archived.size if archived else None,
                fitting=copies,
            )
            path = await video.upload_file(limit)
            file = None
            if path is not None:
                with contextlib.suppress(OSError):  # evicted a moment ago: the link, if any
                    name = video_filename(job.id, fitted=path != video.file)
                    file = discord.File(path, filename=name)
            if file is None and not link_alive:
                text = s.SHOW_EXPIRED.format(job_id=job.id, expired=s.relative(expires))
                await interaction.edit_original_response(content=text, view=show_view(job.id))
                return
            await interaction.edit_original_response(content=s.SHOW_POSTED.format(job_id=job.id))
            await self._send(interaction, job, file, expires, link_alive=link_alive)
        finally:
            if copies is not None:
                await copies.aclose()

    async def _send(
        self,
        interaction: Interaction,
        job: Job,
        file: discord.File | None,
        expires: float,
        *,
        link_alive: bool,
    ) -> None:
        """Post publicly (a followup: no channel permission needed); a file Discord finds too
        large after all goes out as the link instead."""
        by = interaction.user.id
        link = s.SHOW_POST_LINK.format(
            job_id=job.id, user_id=job.user_id, by=by, url=job.result_url,
            expires=s.relative(expires),
        )  # fmt: skip
        for attached in (file, None) if file is not None else (None,):
            content = s.SHOW_POST_FILE.format(job_id=job.id, user_id=job.user_id, by=by)
            try:
                async with await self.bot.delivery.pacer.slot(interaction.channel_id or 0):
                    await interaction.followup.send(
                        content if attached is not None else link,
                        embed=job_embed(job),
                        file=attached or discord.utils.MISSING,
                        view=show_view(job.id),
                        allowed_mentions=discord.AllowedMentions.none(),
                        wait=True,
                    )
                return
            except discord.HTTPException as error:
                if attached is None or code_of(error) not in TOO_LARGE or not link_alive:
                    raise
                log.info("job %s: shown file too large here (%s); the link", job.id, error.code)


async def setup(bot: HHBot) -> None:
    await bot.add_cog(ShowCog(bot))
