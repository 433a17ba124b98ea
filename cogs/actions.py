"""What the persistent Cancel and Delete buttons do; owner or admin only.

Both answer privately and defer first: the click must be acknowledged within 3 seconds, and a
job admitted a moment ago may still be on its way to the runner (see ``Runner.cancel``), or a
429 may hold the delete back. A job of another server is refused: its buttons act only where
the job was made.
"""

from __future__ import annotations

import contextlib
from typing import TYPE_CHECKING

import discord

from cogs.ui import strings as s
from cogs.ui.permissions import is_admin
from cogs.ui.private import job_here, say
from hh_bot.jobs.model import Job, JobState

if TYPE_CHECKING:
    from bot import HHBot

Interaction = discord.Interaction["HHBot"]


def _why_not_canceled(job: Job) -> str:
    if job.state is JobState.CANCELED:
        return s.ALREADY_CANCELED
    if job.state.final:
        return s.ALREADY_ENDED
    if job.state is JobState.QUEUED:
        return s.CANCEL_NOT_READY
    return s.CANNOT_CANCEL


class JobActions:
    def __init__(self, bot: HHBot) -> None:
        self.bot = bot

    async def _job_if_allowed(self, interaction: Interaction, job_id: str) -> Job | None:
        """The job, when the clicker owns it or is an admin; otherwise say why not."""
        job = await job_here(interaction, job_id)
        if job is None:
            return None
        if job.user_id != interaction.user.id and not await is_admin(interaction):
            await say(interaction, s.NOT_YOURS)
            return None
        return job

    async def cancel(self, interaction: Interaction, job_id: str) -> None:
        await interaction.response.defer(ephemeral=True, thinking=True)
        if await self._job_if_allowed(interaction, job_id) is None:
            return
        services = self.bot.services
        canceled = await services.runner.cancel(job_id)
        if canceled is not None:
            await say(interaction, s.CANCELED_OK.format(job_id=job_id))
            return
        job = await services.store.get_job(job_id)
        text = s.JOB_GONE if job is None else _why_not_canceled(job).format(job_id=job_id)
        await say(interaction, text)

    async def delete(self, interaction: Interaction, job_id: str) -> None:
        await interaction.response.defer(ephemeral=True, thinking=True)
        if await self._job_if_allowed(interaction, job_id) is None:
            return
        if interaction.message is not None:
            with contextlib.suppress(discord.NotFound):
                await interaction.message.delete()
        await say(interaction, s.DELETED_OK)
