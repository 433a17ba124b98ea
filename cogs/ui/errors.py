"""The one error funnel: every failure of a command, modal or button ends here as one message."""

from __future__ import annotations

import logging
from typing import Any

import discord
from discord import app_commands

from cogs.notice import TRANSPORT
from cogs.ui import strings as s
from hh_bot.errors import HHError

log = logging.getLogger(__name__)


def unwrap(error: BaseException) -> BaseException:
    while isinstance(error, app_commands.CommandInvokeError):
        error = error.original
    return error


ALREADY_ACKNOWLEDGED = 40060  # a defer whose answer was lost had landed after all


async def report(
    interaction: discord.Interaction[Any], error: BaseException, *, fallback: str = s.INTERNAL
) -> None:
    """Tell the user what went wrong, privately; log what isn't a known, typed error.

    After a defer the "thinking…" message becomes the error; so it does when a defer's answer
    was lost although Discord took it. ``fallback`` is the text for an unexpected error
    (buttons act on jobs that may be running: they must not say nothing was charged)."""
    error = unwrap(error)
    text: str
    if isinstance(error, app_commands.CheckFailure):
        text = s.ADMIN_ONLY
    elif isinstance(error, HHError):
        text = s.error_message(error)
    elif isinstance(error, TRANSPORT):  # the network to Discord
        kind = type(error).__name__
        log.warning("interaction %s: Discord unreachable (%s)", interaction.id, kind)
        text = s.DISCORD_UNREACHABLE if fallback is s.INTERNAL else fallback
    else:
        log.error("unexpected error in interaction %s", interaction.id, exc_info=error)
        text = fallback
    try:
        if not interaction.response.is_done():
            try:
                await interaction.response.send_message(text, ephemeral=True)
                return
            except discord.HTTPException as exc:
                if exc.code != ALREADY_ACKNOWLEDGED:
                    raise
            await interaction.edit_original_response(content=text, embed=None, view=None)
            return
        if interaction.response.type is discord.InteractionResponseType.deferred_channel_message:
            # Our defers are private: the "thinking…" message becomes the answer.
            await interaction.edit_original_response(content=text, embed=None, view=None)
            return
        await interaction.followup.send(text, ephemeral=True)
    except discord.HTTPException as exc:
        log.warning("could not report an error to the user (code %s)", exc.code)
    except TRANSPORT as exc:
        log.warning("could not report an error to the user (%s)", type(exc).__name__)


class HHTree(app_commands.CommandTree[Any]):
    async def on_error(
        self, interaction: discord.Interaction[Any], error: app_commands.AppCommandError
    ) -> None:
        await report(interaction, error)
