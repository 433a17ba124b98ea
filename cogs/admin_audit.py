"""/hh-admin audit-channel set|clear|show, and ``note``: how /hh-admin reports what admins do.

The subcommand joins the existing /hh-admin group (``cogs/admin.py``) when this extension
loads, so it shares the group's visibility (Manage Server) and is checked again here like the
others. The channel must be a text (or announcement) channel of the same server: a client
offers only those, and a modified one sending anything else gets a private answer.

Told once: when the bot can't post in the audit channel, the admin who set it gets one DM
(``cogs/audit_post.py``); setting the channel posts a first line there at once, so a channel
the bot can't use is found out right away.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import discord
from discord import app_commands

from cogs.ui import strings as s
from cogs.ui.permissions import is_admin
from hh_bot.access.audit import AdminAction, AuditChannel
from hh_bot.errors import BadInput

if TYPE_CHECKING:
    from bot import HHBot

Interaction = discord.Interaction["HHBot"]
ACTIONS = [
    app_commands.Choice(name=app_commands.locale_str(n), value=v)
    for v, n in s.ADMIN_AUDIT_ACTIONS.items()
]
TEXT_TYPES = (discord.ChannelType.text, discord.ChannelType.news)
QUIET = discord.AllowedMentions.none()


def note(interaction: Interaction, action: str, **params: object) -> None:
    """Log an admin action in the server's audit channel (``action``: a key of
    ``s.AUDIT_ADMIN``; ``params``: the values its line shows). Never waits, never raises."""
    if interaction.guild_id is None:
        return
    shown = {name: str(value) for name, value in params.items()}
    event = AdminAction(interaction.guild_id, interaction.user.id, action, shown)
    interaction.client.audit.emit(event)


class AuditChannelOption(app_commands.Transformer):
    """A channel option that clients fill with text channels only; the value is Discord's raw
    description of the channel (any type, any server: checked in the command)."""

    @property
    def type(self) -> discord.AppCommandOptionType:
        return discord.AppCommandOptionType.channel

    @property
    def channel_types(self) -> list[discord.ChannelType]:
        return list(TEXT_TYPES)

    async def transform(self, interaction: discord.Interaction[Any], value: Any, /) -> Any:
        return value


async def _admin_only(interaction: Interaction) -> bool:
    if not await is_admin(interaction):
        raise app_commands.CheckFailure("admin only")
    return True


async def _channel_id(interaction: Interaction, channel: Any) -> int:
    """The id of a text channel of this server, else ``BadInput``. Discord's own record of the
    channel is read: the option's resolved data does not say which server it belongs to."""
    if channel is None:
        raise BadInput(s.ADMIN_AUDIT_NEED_CHANNEL)
    if getattr(channel, "type", None) not in TEXT_TYPES:
        raise BadInput(s.ADMIN_AUDIT_BAD_CHANNEL)
    try:
        real = await interaction.client.fetch_channel(int(channel.id))
    except (discord.NotFound, discord.Forbidden):
        raise BadInput(s.ADMIN_AUDIT_BAD_CHANNEL) from None
    guild = getattr(real, "guild", None)
    if guild is None or guild.id != interaction.guild_id:
        raise BadInput(s.ADMIN_AUDIT_BAD_CHANNEL)
    return int(channel.id)


async def audit_channel(
    interaction: Interaction,
    action: str,
    channel: app_commands.Transform[Any, AuditChannelOption] | None = None,
    dm_alerts: bool = False,
) -> None:
    assert interaction.guild_id is not None
    audit = interaction.client.services.audit
    assert audit is not None
    if action == "set":
        channel_id = await _channel_id(interaction, channel)
        admin = interaction.user.id
        setting = AuditChannel(channel_id, admin, alert_dm=admin if dm_alerts else None)
        await audit.set(interaction.guild_id, setting)
        text = s.ADMIN_AUDIT_SET.format(channel=f"<#{channel_id}>", admin=f"<@{admin}>")
        if dm_alerts:
            text += " " + s.ADMIN_AUDIT_SET_DM
        await interaction.response.send_message(text, ephemeral=True, allowed_mentions=QUIET)
        note(interaction, "audit_channel")
        return
    if action == "clear":
        await audit.set(interaction.guild_id, None)
        await interaction.response.send_message(s.ADMIN_AUDIT_CLEARED, ephemeral=True)
        return
    # "show", and anything else a modified client may send: a read that changes nothing
    current = await audit.get(interaction.guild_id)
    if current is None:
        text = s.ADMIN_AUDIT_NONE
    else:
        text = s.ADMIN_AUDIT_SHOW.format(
            channel=f"<#{current.channel_id}>", admin=f"<@{current.set_by}>"
        )
    await interaction.response.send_message(text, ephemeral=True, allowed_mentions=QUIET)


def command() -> app_commands.Command[Any, ..., None]:
    """A fresh subcommand object (each bot gets its own: a command has one parent)."""
    made: app_commands.Command[Any, ..., None] = app_commands.Command(
        name="audit-channel", description=s.ADMIN_AUDIT_DESC, callback=audit_channel
    )
    # locale_str: on a Command object (not a callback) describe() keeps a plain str as it is,
    # and discord.py only asks the translator about locale_str descriptions.
    made = app_commands.describe(
        action=app_commands.locale_str(s.ADMIN_AUDIT_ACTION_DESC),
        channel=app_commands.locale_str(s.ADMIN_AUDIT_CHANNEL_DESC),
        dm_alerts=app_commands.locale_str(s.ADMIN_AUDIT_DM_DESC),
    )(made)
    made = app_commands.choices(action=ACTIONS)(made)
    made.add_check(_admin_only)
    return made


async def setup(bot: HHBot) -> None:
    admin = bot.get_cog("AdminCog")
    group = admin.app_command if admin is not None else None
    if group is None:
        raise RuntimeError("cogs.admin must be loaded before cogs.admin_audit")
    group.add_command(command())
