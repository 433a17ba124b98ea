"""/settings: a member's own defaults for /video (resolution, duration, ratio, watermark,
prompt extension, delivery, a prompt suffix). No option shows them; options set them;
``reset`` forgets one or all. Always answered privately; the rules live in
``hh_bot.access.settings``."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import discord
from discord import app_commands
from discord.ext import commands

from cogs.ui import strings as s
from hh_bot.access.settings import FIELDS, MAX_SUFFIX, Chosen, ServerRules, UserSettings
from hh_bot.config import MAX_DURATION, MIN_DURATION, RATIOS, RESOLUTIONS, Defaults

if TYPE_CHECKING:
    from bot import HHBot

Interaction = discord.Interaction["HHBot"]
RESET_CHOICES = [app_commands.Choice(name=s.SETTINGS_RESET_ALL, value="all")] + [
    app_commands.Choice(name=s.SETTINGS_NAMES[name], value=name) for name in FIELDS
]


def _value(name: str, value: Any) -> str:
    if value is None or value == "":
        return s.SETTINGS_NONE
    if isinstance(value, bool):
        return s.SETTINGS_ON if value else s.SETTINGS_OFF
    if name == "delivery":
        return s.SETTINGS_DELIVERIES.get(str(value), str(value))
    if name == "duration":
        return f"{value} s"
    if name == "suffix":
        return "`" + discord.utils.escape_markdown(str(value)).replace("`", "ˋ") + "`"
    return str(value)


def settings_card(mine: UserSettings, server: Defaults, rules: ServerRules) -> discord.Embed:
    """Each setting, its value and where it comes from; the server's rules below."""
    capped = rules.cap_defaults(mine.defaults_over(server))
    lines = []
    for name in FIELDS:
        own = getattr(mine, name)
        shown = getattr(capped, name, own)
        if own is None and name in ("delivery", "suffix"):
            source, shown = "server", "channel" if name == "delivery" else None
        elif own is None:
            source = "server"
        else:
            source = "capped" if shown != own else "yours"
        lines.append(
            s.SETTINGS_CARD_LINE.format(
                name=s.SETTINGS_NAMES[name], value=_value(name, shown),
                source=s.SETTINGS_SOURCES[source],
            )
        )  # fmt: skip
    embed = discord.Embed(title=s.SETTINGS_TITLE, description="\n".join(lines))
    if not rules.unrestricted:
        embed.set_footer(text=rules_text(rules, s.SETTINGS_RULES))
    return embed


def capped_note(chosen: Chosen) -> str:
    """What the server's rules lowered in a request ("" when nothing), for its owner."""
    if not chosen.capped:
        return ""
    changes = ", ".join(
        s.SETTINGS_CAPPED_PARTS[name].format(value=getattr(chosen.params, name))
        for name in chosen.capped
    )
    return s.SETTINGS_CAPPED.format(changes=changes)


def rules_text(rules: ServerRules, template: str) -> str:
    return template.format(
        resolutions=", ".join(rules.resolutions), max_duration=rules.max_duration
    )


class SettingsCog(commands.Cog):
    def __init__(self, bot: HHBot) -> None:
        self.bot = bot

    @app_commands.command(name="settings", description=s.SETTINGS_DESC)
    @app_commands.describe(
        resolution=s.SETTINGS_RESOLUTION_DESC, duration=s.SETTINGS_DURATION_DESC,
        ratio=s.SETTINGS_RATIO_DESC, watermark=s.SETTINGS_WATERMARK_DESC,
        prompt_extend=s.SETTINGS_PROMPT_EXTEND_DESC, delivery=s.SETTINGS_DELIVERY_DESC,
        suffix=s.SETTINGS_SUFFIX_DESC, reset=s.SETTINGS_RESET_DESC,
    )  # fmt: skip
    @app_commands.choices(
        resolution=[app_commands.Choice(name=r, value=r) for r in RESOLUTIONS],
        ratio=[app_commands.Choice(name=r, value=r) for r in RATIOS],
        delivery=[app_commands.Choice(name=n, value=v) for v, n in s.SETTINGS_DELIVERIES.items()],
        reset=RESET_CHOICES,
    )
    async def settings(
        self,
        interaction: Interaction,
        resolution: str | None = None,
        duration: app_commands.Range[int, MIN_DURATION, MAX_DURATION] | None = None,
        ratio: str | None = None,
        watermark: bool | None = None,
        prompt_extend: bool | None = None,
        delivery: str | None = None,
        suffix: app_commands.Range[str, 1, MAX_SUFFIX] | None = None,
        reset: str | None = None,
    ) -> None:
        services = self.bot.services
        prefs = services.preferences
        user_id = interaction.user.id
        now = services.clock.now()
        given = {
            "resolution": resolution, "duration": duration, "ratio": ratio,
            "watermark": watermark, "prompt_extend": prompt_extend, "delivery": delivery,
            "suffix": suffix,
        }  # fmt: skip
        changes = {name: value for name, value in given.items() if value is not None}
        said = None
        if reset is not None or changes:
            # A reset comes first, so "reset:all resolution:1080P" starts afresh.
            forget = None if reset is None else () if reset == "all" else (reset,)
            await prefs.update(user_id, changes, now, forget=forget)
            said = s.SETTINGS_SAVED if changes else s.SETTINGS_RESET_DONE
        mine = await prefs.user(user_id)
        server = await services.policy.defaults(interaction.guild_id)
        rules = await prefs.rules(interaction.guild_id)
        await interaction.response.send_message(
            said, embed=settings_card(mine, server, rules), ephemeral=True
        )


async def setup(bot: HHBot) -> None:
    await bot.add_cog(SettingsCog(bot))
