"""Who counts as a bot admin: Manage Server, or the configured admin role."""

from __future__ import annotations

from typing import TYPE_CHECKING

import discord

if TYPE_CHECKING:
    from bot import HHBot


async def is_admin(interaction: discord.Interaction[HHBot]) -> bool:
    if interaction.guild_id is None:
        return False
    perms = interaction.permissions
    if perms.manage_guild or perms.administrator:
        return True
    services = interaction.client.services
    role_ids = {r.id for r in getattr(interaction.user, "roles", ())}
    configured = services.settings.admin_role_id
    stored = await services.policy.admin_role(interaction.guild_id)
    return bool(role_ids & {r for r in (configured, stored) if r is not None})
