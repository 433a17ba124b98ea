"""Private answers to a click, and the one check every job button makes first.

A button may be clicked long after its job was made: the job may be gone (purged, or a database
restored from an older copy), or the message may have been forwarded to another server, where
the job's buttons must not act.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, TypeAlias

import discord

from cogs.ui import strings as s
from hh_bot.jobs.model import Job

if TYPE_CHECKING:
    from bot import HHBot

Interaction: TypeAlias = "discord.Interaction[HHBot]"


async def say(interaction: Interaction, text: str) -> None:
    """A private answer, whether or not the interaction was deferred (after a private defer,
    the "thinking…" message becomes the answer)."""
    if not interaction.response.is_done():
        await interaction.response.send_message(text, ephemeral=True)
    elif interaction.response.type is discord.InteractionResponseType.deferred_channel_message:
        await interaction.edit_original_response(content=text)
    else:
        await interaction.followup.send(text, ephemeral=True)


async def job_here(interaction: Interaction, job_id: str) -> Job | None:
    """The job, when it exists and belongs to the server of the click; otherwise say why not."""
    job = await interaction.client.services.store.get_job(job_id)
    if job is None:
        await say(interaction, s.JOB_GONE)
        return None
    if job.guild_id != interaction.guild_id:
        await say(interaction, s.NOT_THIS_SERVER)
        return None
    return job
