"""The audit channel's words: each core event (``hh_bot.access.audit``) as one short line.

Users are written as mentions so the line links to them; the post itself never pings
(``allowed_mentions`` none, ``cogs/audit_post.py``). A prompt is an excerpt with its markdown
escaped, so the line stays one line and shows the words as typed.
"""

from __future__ import annotations

import discord

from cogs.ui import strings as s
from hh_bot.access.alerts import BudgetAlert
from hh_bot.access.audit import AdminAction, AuditEvent, JobAdmitted, JobDelivered, JobEnded
from hh_bot.access.strikes import Standing
from hh_bot.errors import JobCanceled
from hh_bot.jobs.delivery import ResultMessage

PROMPT_EXCERPT = 120  # characters of the prompt shown
REASON_EXCERPT = 160  # characters of a failure's reason shown
LINE_LIMIT = 2000  # Discord's message length


def excerpt(text: str, limit: int) -> str:
    flat = " ".join(text.split())
    if len(flat) > limit:
        flat = flat[: limit - 1] + "…"
    return discord.utils.escape_markdown(flat)


def message_link(guild_id: int | None, message: ResultMessage) -> str:
    where = guild_id or "@me"
    return f"https://discord.com/channels/{where}/{message.channel_id}/{message.message_id}"


def line_of(event: AuditEvent) -> str:
    """The one line an event shows as."""
    match event:
        case JobAdmitted(job=job):
            text = s.AUDIT_ADMITTED.format(
                user=f"<@{job.user_id}>", job_id=job.id, cost=s.money(job.cost),
                refs=len(job.params.image_urls), prompt=excerpt(job.params.prompt, PROMPT_EXCERPT),
            )  # fmt: skip
        case JobDelivered(job=job, message=message):
            who = {"user": f"<@{job.user_id}>", "job_id": job.id, "cost": s.money(job.cost)}
            if message is None:
                text = s.AUDIT_DELIVERED_UNLINKED.format(**who)
            else:
                text = s.AUDIT_DELIVERED.format(**who, link=message_link(job.guild_id, message))
        case JobEnded(job=job, error=error):
            who = {"user": f"<@{job.user_id}>", "job_id": job.id, "cost": s.money(job.cost)}
            if isinstance(error, JobCanceled):
                text = s.AUDIT_CANCELED.format(**who)
            else:
                reason = excerpt(s.error_message(error), REASON_EXCERPT)
                text = s.AUDIT_ENDED.format(**who, reason=reason)
        case AdminAction(admin_id=admin_id, action=action, params=params):
            text = s.AUDIT_ADMIN[action].format(admin=f"<@{admin_id}>", **params)
        case BudgetAlert():
            text = alert_line(event)
    return text[:LINE_LIMIT]


def alert_line(alert: BudgetAlert) -> str:
    shown = {
        "spent": s.money(alert.spent),
        "limit": s.money(alert.limit),
        "period": s.ADMIN_PERIODS.get(alert.period, alert.period),
    }
    if alert.refusing:
        return s.AUDIT_ALERT_FULL.format(**shown, resets=s.relative(alert.resets_at))
    return s.AUDIT_ALERT.format(**shown, percent=alert.threshold)


def strike_line(user_id: int, standing: Standing) -> str:
    """A provider moderation refusal, with the cooldown it earned if any."""
    if standing.cooling_until is not None:
        until = s.relative(standing.cooling_until.timestamp())
        return s.AUDIT_STRIKE_COOLING.format(
            user=f"<@{user_id}>", count=standing.strikes_today, until=until
        )
    return s.AUDIT_STRIKE.format(user=f"<@{user_id}>", count=standing.strikes_today)
