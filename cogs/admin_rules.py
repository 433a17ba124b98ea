"""/hh-admin rules: what a server allows whatever anyone chooses (the resolutions members may
use, the longest video). Rules win over every default and option; a request outside them is
capped, and its owner told (``hh_bot.access.settings``).

A subcommand of the existing /hh-admin group, added from here so that ``cogs/admin.py`` stays
as it is: this extension loads after it and adds its command to that cog's group object, which
is what the tree syncs. Admin only, by the same check as the rest of the group.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import discord
from discord import app_commands

from cogs.admin import AdminCog
from cogs.settings import rules_text
from cogs.ui import strings as s
from cogs.ui.permissions import is_admin
from hh_bot.access.settings import ServerRules
from hh_bot.config import MAX_DURATION, MIN_DURATION, RESOLUTIONS

if TYPE_CHECKING:
    from bot import HHBot

Interaction = discord.Interaction["HHBot"]


async def _admin_only(interaction: Interaction) -> bool:
    if not await is_admin(interaction):
        raise app_commands.CheckFailure("admin only")
    return True


RESOLUTION_CHOICES = [
    app_commands.Choice(name=name, value=value) for value, name in s.ADMIN_RULES_CHOICES.items()
]


@app_commands.command(name="rules", description=s.ADMIN_RULES_DESC)
@app_commands.describe(
    resolutions=s.ADMIN_RULES_RESOLUTIONS_DESC,
    max_duration=s.ADMIN_RULES_MAX_DURATION_DESC,
    reset=s.ADMIN_RULES_RESET_DESC,
)
@app_commands.choices(resolutions=RESOLUTION_CHOICES)
@app_commands.check(_admin_only)
async def rules(
    interaction: Interaction,
    resolutions: str | None = None,
    max_duration: app_commands.Range[int, MIN_DURATION, MAX_DURATION] | None = None,
    reset: bool = False,
) -> None:
    """No option shows the rules; options change them (``reset`` first lifts them all)."""
    assert interaction.guild_id is not None
    prefs = interaction.client.services.preferences
    current = ServerRules() if reset else await prefs.rules(interaction.guild_id)
    if resolutions is not None:
        allowed = RESOLUTIONS if resolutions == "all" else (resolutions,)
        current = ServerRules.from_json({**current.to_json(), "resolutions": list(allowed)})
    if max_duration is not None:
        current = ServerRules.from_json({**current.to_json(), "max_duration": max_duration})
    if reset or resolutions is not None or max_duration is not None:
        await prefs.set_rules(interaction.guild_id, current)
    await interaction.response.send_message(
        rules_text(current, s.ADMIN_RULES_SHOWN), ephemeral=True
    )


async def setup(bot: HHBot) -> None:
    admin = bot.get_cog(AdminCog.__cog_name__)
    if not isinstance(admin, AdminCog):
        raise RuntimeError("cogs.admin_rules loads after cogs.admin")
    group = admin.app_command
    assert group is not None
    group.add_command(rules)


async def teardown(bot: HHBot) -> None:
    admin = bot.get_cog(AdminCog.__cog_name__)
    if admin is not None and admin.app_command is not None:
        admin.app_command.remove_command(rules.name)
