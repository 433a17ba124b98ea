"""What the persistent Cancel and Delete buttons do; owner or admin only."""

from __future__ import annotations

import contextlib
from typing import TYPE_CHECKING

import discord

from cogs.ui import strings as s
from cogs.ui.permissions import is_admin

if TYPE_CHECKING:
    from bot import HHBot

Interaction = discord.Interaction["HHBot"]


class JobActions:
    def __init__(self, bot: HHBot) -> None:
        self.bot = bot

    async def _owned_job_or_refuse(self, interaction: Interaction, job_id: str) -> bool:
        job = await self.bot.services.store.get_job(job_id)
        if job is None:
            await interaction.response.send_message(s.JOB_GONE, ephemeral=True)
            return False
        if job.user_id != interaction.user.id and not await is_admin(interaction):
            await interaction.response.send_message(s.NOT_YOURS, ephemeral=True)
            return False
        return True

    async def cancel(self, interaction: Interaction, job_id: str) -> None:
        if not await self._owned_job_or_refuse(interaction, job_id):
            return
        canceled = await self.bot.services.runner.cancel(job_id)
        text = s.CANCELED_OK if canceled else s.CANNOT_CANCEL
        await interaction.response.send_message(text.format(job_id=job_id), ephemeral=True)

    async def delete(self, interaction: Interaction, job_id: str) -> None:
        if not await self._owned_job_or_refuse(interaction, job_id):
            return
        await interaction.response.send_message(s.DELETED_OK, ephemeral=True)
        if interaction.message is not None:
            with contextlib.suppress(discord.NotFound):
                await interaction.message.delete()
