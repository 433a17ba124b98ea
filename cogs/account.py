"""/quota and /jobs: each user's own allowance (with their month as a small chart) and jobs,
shown only to them."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from cogs.iterate_card import origin_text
from cogs.ui import strings as s
from cogs.ui.charts import USER_FILE, user_chart
from hh_bot.access.quota import PeriodUsage, month_start
from hh_bot.access.strikes import Standing
from hh_bot.jobs.model import Job

if TYPE_CHECKING:
    from bot import HHBot

Interaction = discord.Interaction["HHBot"]


def _usage_line(usage: PeriodUsage) -> str:
    left = s.money(usage.remaining) if usage.limit is not None else s.money(None)
    return s.USAGE_LINE.format(
        spent=s.money(usage.spent),
        limit=s.money(usage.limit),
        left=left,
        resets=s.relative(usage.resets_at),
    )


def _strikes_line(standing: Standing) -> str:
    if standing.cooling_until is not None:
        resets = s.relative(standing.cooling_until.timestamp())
        return s.QUOTA_STRIKES_COOLING.format(count=standing.strikes_today, resets=resets)
    hours = standing.next_cooldown.total_seconds() / 3600
    return s.QUOTA_STRIKES_LINE.format(count=standing.strikes_today, next=f"{hours:g} h")


def job_link(job: Job) -> str:
    """A link to the job's result where it was delivered, else to its progress reply.

    A result lives in the reply's channel or, when that channel refused it, in the owner's DM
    channel (``result_channel_id``; older rows have none and mean the reply's channel); a DM's
    link has ``@me`` where a server's id goes.
    """
    if job.result_message_id is not None:
        channel_id = job.result_channel_id or job.reply.channel_id
        message_id = job.result_message_id
    elif job.reply.message_id is not None:
        channel_id, message_id = job.reply.channel_id, job.reply.message_id
    else:
        return ""
    if job.guild_id is None:
        return ""
    where = job.guild_id if channel_id == job.reply.channel_id else "@me"
    return f"https://discord.com/channels/{where}/{channel_id}/{message_id}"


class AccountCog(commands.Cog):
    def __init__(self, bot: HHBot) -> None:
        self.bot = bot

    @app_commands.command(name="quota", description=s.QUOTA_DESC)
    async def quota(self, interaction: Interaction) -> None:
        # Deferred first: the read may wait for the store, and Discord wants an answer in 3 s.
        await interaction.response.defer(ephemeral=True, thinking=True)
        services = self.bot.services
        roles = [r.id for r in getattr(interaction.user, "roles", ())]
        summary = await services.quota.summary(interaction.guild_id, interaction.user.id, roles)
        embed = discord.Embed(title=s.QUOTA_TITLE, colour=discord.Colour.blurple())
        day, month = summary.user
        embed.add_field(name=s.QUOTA_TODAY, value=_usage_line(day), inline=False)
        embed.add_field(name=s.QUOTA_MONTH, value=_usage_line(month), inline=False)
        if summary.guild is not None:
            g_day, g_month = summary.guild
            embed.add_field(name=s.QUOTA_SERVER_TODAY, value=_usage_line(g_day), inline=False)
            embed.add_field(name=s.QUOTA_SERVER_MONTH, value=_usage_line(g_month), inline=False)
        strikes = summary.strikes
        if strikes is not None and (strikes.strikes_today or strikes.cooling_until):
            embed.add_field(name=s.QUOTA_STRIKES, value=_strikes_line(strikes), inline=False)
        embed.add_field(
            name=s.QUOTA_JOBS,
            value=s.QUOTA_JOBS_LINE.format(running=summary.running, queued=summary.queued),
            inline=False,
        )
        since = month_start(services.clock.now())
        spend = await services.store.spend_by_day(
            interaction.guild_id, since, services.clock.now() + 1, user_id=interaction.user.id
        )
        chart = await user_chart(
            spend, dt.datetime.fromtimestamp(since, dt.UTC).date(),
            daily_limit=day.limit, monthly_limit=month.limit,
        )  # fmt: skip
        embed.set_image(url=f"attachment://{USER_FILE}")
        settings = services.settings
        embed.set_footer(
            text=s.QUOTA_PRICES.format(
                p720=s.money(settings.price_720p_milli), p1080=s.money(settings.price_1080p_milli)
            )
        )
        await interaction.edit_original_response(embed=embed, attachments=[chart])

    @app_commands.command(name="jobs", description=s.JOBS_DESC)
    async def jobs(self, interaction: Interaction) -> None:
        services = self.bot.services
        jobs = await services.store.user_jobs(interaction.user.id, limit=10)
        if not jobs:
            await interaction.response.send_message(s.NO_JOBS, ephemeral=True)
            return
        lines = []
        for job in jobs:
            prompt = job.params.prompt.replace("\n", " ")
            excerpt = prompt if len(prompt) <= 60 else prompt[:59] + "…"
            position = services.runner.queue_position(job.id)
            state = str(s.STATE_LABEL[job.state])
            if position is not None:
                state += f" (#{position})"
            link = job_link(job)
            lines.append(
                s.JOB_LINE.format(
                    job_id=job.id,
                    state=state,
                    when=s.relative(job.created_at),
                    prompt=discord.utils.escape_markdown(excerpt),
                    link=f" · [{s.OPEN}]({link})" if link else "",
                )
                + (" " + s.JOB_LINE_ORIGIN.format(origin=origin_text(job)) if job.parent_id else "")
            )
        embed = discord.Embed(title=s.JOBS_TITLE, description="\n".join(lines))
        await interaction.response.send_message(embed=embed, ephemeral=True)


async def setup(bot: HHBot) -> None:
    await bot.add_cog(AccountCog(bot))
