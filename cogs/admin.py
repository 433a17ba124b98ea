"""/hh-admin: limits, grants, bans, channels, blocked words, server defaults, running jobs,
usage report with its chart, ledger export, purging a member's content.

Visible by default to members with Manage Server; the configured admin role may use it too
(server admins can show it to that role in Server Settings → Integrations).
"""

from __future__ import annotations

import datetime as dt
import io
import re
from typing import TYPE_CHECKING, Any

import discord
from discord import app_commands
from discord.ext import commands

from cogs.account import job_link
from cogs.admin_audit import note
from cogs.ui import strings as s
from cogs.ui.charts import SERVER_FILE, server_chart
from cogs.ui.permissions import is_admin
from hh_bot.access.purge import ANONYMOUS_ID, purge_member
from hh_bot.access.quota import day_start, month_start, next_month
from hh_bot.config import MAX_DURATION, MIN_DURATION, RATIOS, RESOLUTIONS, usd_to_milli
from hh_bot.errors import BadInput
from hh_bot.jobs.model import JobState
from hh_bot.reports.export import DISCORD_UPLOAD_BYTES, UPLOAD_OVERHEAD_BYTES, csv_parts

if TYPE_CHECKING:
    from bot import HHBot

Interaction = discord.Interaction["HHBot"]
PERIOD_CHOICES = [app_commands.Choice(name=n, value=v) for v, n in s.ADMIN_PERIODS.items()]
DESCRIPTION_BUDGET = 3900  # an embed description holds 4096 characters; room for "…and N more"
SCOPE_CHOICES = [app_commands.Choice(name=n, value=v) for v, n in s.ADMIN_SCOPES.items()]
BLOCKLIST_CHOICES = [
    app_commands.Choice(name=n, value=v) for v, n in s.ADMIN_BLOCKLIST_ACTIONS.items()
]
LIST_BUDGET = 1800  # a message holds 2000 characters; room for the heading and "…and N more"
MONTH = re.compile(r"(\d{4})-(\d{1,2})")


async def _admin_check(interaction: Interaction) -> bool:
    if not await is_admin(interaction):
        raise app_commands.CheckFailure("admin only")
    return True


def parse_amount(text: str) -> int | None:
    """Dollars to millidollars; "none"/"unlimited" → -1 (unlimited); "default" → None (clear)."""
    value = text.strip().lower().lstrip("$")
    if value in ("none", "unlimited"):
        return -1
    if value in ("default", "reset"):
        return None
    try:
        return usd_to_milli(value)
    except ValueError:
        raise BadInput(s.ADMIN_BAD_AMOUNT) from None


@app_commands.guild_only()
@app_commands.default_permissions(manage_guild=True)
class AdminCog(commands.GroupCog, group_name="hh-admin", group_description=s.ADMIN_DESC):
    def __init__(self, bot: HHBot) -> None:
        self.bot = bot
        self.export_part_bytes: int | None = None
        """Bytes per export file; None: the server's upload limit less the envelope (tests
        force small parts)."""
        super().__init__()

    async def interaction_check(self, interaction: Interaction) -> bool:  # type: ignore[override]
        return await _admin_check(interaction)

    async def _say(self, interaction: Interaction, text: str | None, **kw: Any) -> None:
        await interaction.response.send_message(text, ephemeral=True, **kw)

    @app_commands.command(name="limit", description=s.ADMIN_LIMIT_DESC)
    @app_commands.describe(
        scope=s.ADMIN_SCOPE_DESC, period=s.ADMIN_PERIOD_DESC, amount=s.ADMIN_AMOUNT_DESC,
        role=s.ADMIN_ROLE_OPT_DESC, member=s.ADMIN_MEMBER_OPT_DESC,
    )  # fmt: skip
    @app_commands.choices(scope=SCOPE_CHOICES, period=PERIOD_CHOICES)
    async def limit(
        self,
        interaction: Interaction,
        scope: str,
        period: str,
        amount: str,
        role: discord.Role | None = None,
        member: discord.Member | None = None,
    ) -> None:
        target = scope
        if scope == "role":
            if role is None:
                raise BadInput(s.ADMIN_NEED_ROLE)
            target = f"role:{role.id}"
        elif scope == "member":
            if member is None:
                raise BadInput(s.ADMIN_NEED_MEMBER)
            target = f"member:{member.id}"
        elif scope not in ("user", "guild"):
            raise BadInput(s.ADMIN_BAD_SCOPE)
        if period not in ("day", "month"):
            raise BadInput(s.ADMIN_BAD_PERIOD)
        value = parse_amount(amount)
        await self.bot.services.policy.set_limit(interaction.guild_id, target, period, value)
        shown = s.ADMIN_AMOUNT_DEFAULT if value is None else s.money(None if value < 0 else value)
        said = s.ADMIN_LIMIT_SET.format(target=target, period=s.ADMIN_PERIODS[period], amount=shown)
        await self._say(interaction, said)
        who = role.mention if scope == "role" and role else s.ADMIN_SCOPES.get(scope, scope)
        who = member.mention if scope == "member" and member else who
        note(interaction, "limit", period=s.ADMIN_PERIODS[period], target=who, amount=shown)

    @app_commands.command(name="grant", description=s.ADMIN_GRANT_DESC)
    async def grant(self, interaction: Interaction, member: discord.Member, amount: str) -> None:
        value = parse_amount(amount)
        if value is None or value <= 0:
            raise BadInput(s.ADMIN_BAD_AMOUNT)
        services = self.bot.services
        await services.store.add_grant(
            interaction.guild_id, member.id, value, services.clock.now(), interaction.user.id
        )
        await self._say(
            interaction,
            s.ADMIN_GRANTED.format(member=member.mention, amount=s.money(value)),
            allowed_mentions=discord.AllowedMentions.none(),
        )
        note(interaction, "grant", member=member.mention, amount=s.money(value))

    @app_commands.command(name="ban", description=s.ADMIN_BAN_DESC)
    async def ban(self, interaction: Interaction, member: discord.Member) -> None:
        await self.bot.services.policy.set_banned(interaction.guild_id, member.id, True)
        await self._say(
            interaction, s.ADMIN_BANNED.format(member=member.mention),
            allowed_mentions=discord.AllowedMentions.none(),
        )  # fmt: skip
        note(interaction, "ban", member=member.mention)

    @app_commands.command(name="unban", description=s.ADMIN_UNBAN_DESC)
    async def unban(self, interaction: Interaction, member: discord.Member) -> None:
        await self.bot.services.policy.set_banned(interaction.guild_id, member.id, False)
        await self._say(
            interaction, s.ADMIN_UNBANNED.format(member=member.mention),
            allowed_mentions=discord.AllowedMentions.none(),
        )  # fmt: skip
        note(interaction, "unban", member=member.mention)

    @app_commands.command(name="channel", description=s.ADMIN_CHANNEL_DESC)
    async def channel(
        self, interaction: Interaction, channel: discord.TextChannel, allowed: bool
    ) -> None:
        assert interaction.guild_id is not None
        channels = await self.bot.services.policy.set_channel_allowed(
            interaction.guild_id, channel.id, allowed
        )
        listed = ", ".join(f"<#{c}>" for c in channels) if channels else s.ADMIN_ALL_CHANNELS
        await self._say(interaction, s.ADMIN_CHANNELS.format(channels=listed))
        note(
            interaction,
            "channel_allowed" if allowed else "channel_removed",
            channel=channel.mention,
        )

    @app_commands.command(name="blocklist", description=s.ADMIN_BLOCKLIST_DESC)
    @app_commands.describe(
        action=s.ADMIN_BLOCKLIST_ACTION_DESC, phrase=s.ADMIN_BLOCKLIST_PHRASE_DESC
    )
    @app_commands.choices(action=BLOCKLIST_CHOICES)
    async def blocklist(
        self, interaction: Interaction, action: str, phrase: str | None = None
    ) -> None:
        assert interaction.guild_id is not None
        policy = self.bot.services.policy
        if action == "list":
            entries = (await policy.blocklist(interaction.guild_id)).texts
            await self._say(interaction, _listing(entries), **_QUIET)
            return
        if not phrase:
            raise BadInput(s.ADMIN_BLOCKLIST_NEED_PHRASE)
        if action == "add":
            listed = await policy.block(interaction.guild_id, phrase)
            template = s.ADMIN_BLOCKLIST_ADDED
        else:
            listed = await policy.unblock(interaction.guild_id, phrase)
            template = s.ADMIN_BLOCKLIST_REMOVED
        text = template.format(phrase=_shown(phrase.strip()), count=len(listed.texts))
        await self._say(interaction, text, **_QUIET)
        note(
            interaction,
            f"blocklist_{'add' if action == 'add' else 'remove'}",
            count=len(listed.texts),
        )

    @app_commands.command(name="defaults", description=s.ADMIN_DEFAULTS_DESC)
    @app_commands.choices(
        resolution=[app_commands.Choice(name=r, value=r) for r in RESOLUTIONS],
        ratio=[app_commands.Choice(name=r, value=r) for r in RATIOS],
    )
    async def defaults(
        self,
        interaction: Interaction,
        resolution: str | None = None,
        duration: app_commands.Range[int, MIN_DURATION, MAX_DURATION] | None = None,
        ratio: str | None = None,
        watermark: bool | None = None,
        prompt_extend: bool | None = None,
    ) -> None:
        assert interaction.guild_id is not None
        policy = self.bot.services.policy
        changes = {
            "resolution": resolution, "duration": duration, "ratio": ratio,
            "watermark": watermark, "prompt_extend": prompt_extend,
        }  # fmt: skip
        current = await policy.defaults(interaction.guild_id)
        for name, value in changes.items():
            if value is None:
                continue
            try:
                current = await policy.set_default(interaction.guild_id, name, value)
            except ValueError:
                raise BadInput(s.ADMIN_BAD_DEFAULT.format(name=name)) from None
        await self._say(
            interaction,
            s.ADMIN_DEFAULTS.format(
                resolution=current.resolution, duration=current.duration, ratio=current.ratio,
                watermark=s.on_off(current.watermark),
                prompt_extend=s.on_off(current.prompt_extend),
            ),
        )  # fmt: skip
        if any(value is not None for value in changes.values()):
            note(interaction, "defaults")

    @app_commands.command(name="admin-role", description=s.ADMIN_ROLE_DESC)
    async def admin_role(self, interaction: Interaction, role: discord.Role | None = None) -> None:
        assert interaction.guild_id is not None
        await self.bot.services.policy.set_admin_role(
            interaction.guild_id, role.id if role else None
        )
        await self._say(
            interaction,
            s.ADMIN_ROLE_SET.format(role=role.mention if role else s.ADMIN_NO_ROLE),
            allowed_mentions=discord.AllowedMentions.none(),
        )
        note(interaction, "admin_role", role=role.mention if role else s.ADMIN_NO_ROLE)

    @app_commands.command(name="running", description=s.ADMIN_RUNNING_DESC)
    async def running(self, interaction: Interaction) -> None:
        services = self.bot.services
        unfinished = [state for state in JobState if not state.final]
        jobs = await services.store.jobs_in_states(unfinished, guild_id=interaction.guild_id)
        if not jobs:
            await self._say(interaction, s.ADMIN_NOTHING_RUNNING)
            return
        lines: list[str] = []
        for n, job in enumerate(jobs):
            state = str(s.STATE_LABEL[job.state])
            position = services.runner.queue_position(job.id)
            if position is not None:
                state += f" (#{position})"
            line = s.ADMIN_RUNNING_LINE.format(
                job_id=job.id, user=f"<@{job.user_id}>", state=state,
                when=s.relative(job.created_at), cost=s.money(job.cost), link=job_link(job),
            )  # fmt: skip
            if sum(len(x) + 1 for x in lines) + len(line) > DESCRIPTION_BUDGET:
                lines.append(s.ADMIN_RUNNING_MORE.format(count=len(jobs) - n))
                break
            lines.append(line)
        embed = discord.Embed(title=s.ADMIN_RUNNING_TITLE, description="\n".join(lines))
        await self._say(interaction, None, embed=embed)

    @app_commands.command(name="usage", description=s.ADMIN_USAGE_DESC)
    @app_commands.choices(period=PERIOD_CHOICES)
    async def usage(self, interaction: Interaction, period: str = "month") -> None:
        # Deferred: the chart takes a moment to draw, and Discord wants an answer in 3 s.
        await interaction.response.defer(ephemeral=True, thinking=True)
        services = self.bot.services
        now = services.clock.now()
        since = day_start(now) if period == "day" else month_start(now)
        rows = await services.store.usage_report(interaction.guild_id, since, now + 1)
        chart = await self._month_chart(interaction, now)
        if not rows:
            await interaction.edit_original_response(content=s.ADMIN_NO_USAGE, attachments=[chart])
            return
        total = sum(r.committed for r in rows)
        billed = sum(r.possibly_billed for r in rows)
        lines = [
            s.ADMIN_USAGE_LINE.format(
                user=s.CHART_ANONYMOUS if r.user_id == ANONYMOUS_ID else f"<@{r.user_id}>",
                jobs=r.jobs, spent=s.money(r.committed),
                billed=s.money(r.possibly_billed), reserved=s.money(r.reserved),
            )
            for r in rows[:25]
        ]  # fmt: skip
        shown_period = s.ADMIN_PERIODS.get(period, period)
        embed = discord.Embed(
            title=s.ADMIN_USAGE_TITLE.format(
                period=shown_period, total=s.money(total), billed=s.money(billed)
            ),
            description="\n".join(lines),
        )
        embed.set_footer(text=s.ADMIN_USAGE_NOTE)
        embed.set_image(url=f"attachment://{SERVER_FILE}")
        await interaction.edit_original_response(embed=embed, attachments=[chart])

    async def _month_chart(self, interaction: Interaction, now: float) -> discord.File:
        """This month's spend per day on the server, with the server's limits that are set."""
        services = self.bot.services
        since = month_start(now)
        spend = await services.store.spend_by_day(interaction.guild_id, since, now + 1)
        limits = await services.policy.effective_limits(
            interaction.guild_id, interaction.user.id, ()
        )
        return await server_chart(
            interaction.guild, spend, dt.datetime.fromtimestamp(since, dt.UTC).date(),
            daily_limit=limits.guild_day, monthly_limit=limits.guild_month,
        )  # fmt: skip

    @app_commands.command(name="export", description=s.ADMIN_EXPORT_DESC)
    @app_commands.describe(period=s.ADMIN_EXPORT_PERIOD_DESC)
    async def export(self, interaction: Interaction, period: str | None = None) -> None:
        services = self.bot.services
        month = parse_month(period, services.clock.now())  # bad input: answered before a defer
        await interaction.response.defer(ephemeral=True, thinking=True)
        since = dt.datetime(month.year, month.month, 1, tzinfo=dt.UTC).timestamp()
        label = f"{month.year}-{month.month:02d}"
        guild = interaction.guild
        limit = guild.filesize_limit if guild is not None else DISCORD_UPLOAD_BYTES
        part_bytes = self.export_part_bytes or limit - UPLOAD_OVERHEAD_BYTES
        lines = services.store.ledger_lines(interaction.guild_id, since, next_month(since))
        # One part at a time: each is built only once the one before it was uploaded.
        async for part in csv_parts(lines, max_bytes=part_bytes):
            data = io.BytesIO(part.data)
            file = discord.File(data, filename=f"hh-ledger-{label}-{part.number}.csv")
            text = s.ADMIN_EXPORT_PART.format(
                period=label, number=part.number, rows=part.rows,
                charged=s.money(part.charged_milli), billed=s.money(part.possibly_billed_milli),
            )  # fmt: skip
            if part.number == 1:
                await interaction.edit_original_response(content=text, attachments=[file])
            else:
                await interaction.followup.send(text, file=file, ephemeral=True)

    @app_commands.command(name="purge-user", description=s.ADMIN_PURGE_DESC)
    @app_commands.describe(member=s.ADMIN_PURGE_MEMBER_DESC)
    async def purge_user(self, interaction: Interaction, member: discord.User) -> None:
        # A user, not only a member: someone who left the server may ask to be removed too.
        assert interaction.guild_id is not None
        # Deferred: SQLite vacuums the whole file afterwards, which may take a while.
        await interaction.response.defer(ephemeral=True, thinking=True)
        services = self.bot.services
        report = await purge_member(
            services.store, interaction.guild_id, member.id, services.archive
        )
        text = s.ADMIN_PURGED.format(member=member.mention, jobs=report.jobs)
        if report.running:
            text += " " + s.ADMIN_PURGE_RUNNING.format(count=report.running)
        await interaction.edit_original_response(content=text, **_QUIET)
        note(interaction, "purge", member=member.mention, jobs=report.jobs)


def parse_month(text: str | None, now: float) -> dt.date:
    """``YYYY-MM`` to the first day of that month; none given: this month (UTC)."""
    if text is None or not text.strip():
        return dt.datetime.fromtimestamp(now, dt.UTC).date().replace(day=1)
    found = MONTH.fullmatch(text.strip())
    if found is None or not 1 <= int(found.group(2)) <= 12:
        raise BadInput(s.ADMIN_EXPORT_BAD_PERIOD)
    return dt.date(int(found.group(1)), int(found.group(2)), 1)


_QUIET: dict[str, Any] = {"allowed_mentions": discord.AllowedMentions.none()}


def _shown(entry: str) -> str:
    """An entry as inline code, so markdown in it shows as typed."""
    return "`" + entry.replace("`", "ˋ") + "`"


def _listing(entries: tuple[str, ...]) -> str:
    """The server's entries in one message, cut to fit with a count of the rest."""
    if not entries:
        return s.ADMIN_BLOCKLIST_EMPTY
    shown: list[str] = []
    used = 0
    for entry in entries:
        item = _shown(entry)
        if used + len(item) + 2 > LIST_BUDGET:
            break
        shown.append(item)
        used += len(item) + 2
    listed = ", ".join(shown)
    if len(shown) < len(entries):
        listed += " " + s.ADMIN_BLOCKLIST_MORE.format(count=len(entries) - len(shown))
    return s.ADMIN_BLOCKLIST_LIST.format(count=len(entries), entries=listed)


async def setup(bot: HHBot) -> None:
    await bot.add_cog(AdminCog(bot))
