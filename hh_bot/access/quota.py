"""Quota rules: cost, periods, limits and caps, and the reservation that admits a job.

``Quota.admit`` checks every rule and inserts the job with its reservation in ONE write
transaction, so two users racing for the last credit cannot both get it. Settlement (commit on
success, release otherwise) happens in ``Store.save`` together with the final state change.
A member cooling down after provider moderation refusals (``strikes.py``, the
``MODERATION_COOLDOWNS`` ladder) is refused before anything else is read.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime

from hh_bot.access.policy import EffectiveLimits, Policy
from hh_bot.access.strikes import Standing, replay
from hh_bot.clock import Clock
from hh_bot.config import Settings
from hh_bot.errors import QuotaExceeded
from hh_bot.jobs.model import Job, JobState
from hh_bot.store.interface import UNFINISHED, Store, Tx


def cost_of(settings: Settings, resolution: str, duration: int) -> int:
    """Millidollars: price per second at the resolution × seconds of video."""
    return settings.price_per_second(resolution) * duration


def day_start(now: float) -> float:
    d = datetime.fromtimestamp(now, UTC)
    return datetime(d.year, d.month, d.day, tzinfo=UTC).timestamp()


def month_start(now: float) -> float:
    d = datetime.fromtimestamp(now, UTC)
    return datetime(d.year, d.month, 1, tzinfo=UTC).timestamp()


def next_day(now: float) -> float:
    return day_start(day_start(now) + 36 * 3600)


def next_month(now: float) -> float:
    return month_start(month_start(now) + 32 * 86400)


@dataclass(frozen=True)
class PeriodUsage:
    period: str  # "day" | "month"
    spent: int
    limit: int | None  # including grants; None = unlimited
    resets_at: float

    @property
    def remaining(self) -> int | None:
        return None if self.limit is None else max(0, self.limit - self.spent)


@dataclass(frozen=True)
class UsageSummary:
    user: tuple[PeriodUsage, PeriodUsage]
    guild: tuple[PeriodUsage, PeriodUsage] | None
    running: int
    queued: int
    strikes: Standing | None = None
    """Provider moderation refusals today and the cooldown they earned."""


class Quota:
    def __init__(self, store: Store, policy: Policy, settings: Settings, clock: Clock) -> None:
        self._store = store
        self._policy = policy
        self._settings = settings
        self._clock = clock

    async def admit(self, job: Job, role_ids: Iterable[int] = ()) -> None:
        """Insert ``job`` with its reservation, or raise ``QuotaExceeded`` saying why."""
        roles = list(role_ids)
        if await self._policy.is_banned(job.guild_id, job.user_id):
            raise QuotaExceeded("banned")
        standing = await self.strikes(job.guild_id, job.user_id)
        if standing.cooling_until is not None:
            until = standing.cooling_until.timestamp()
            raise QuotaExceeded("moderation_cooldown", resets_at=until)
        limits = await self._policy.effective_limits(job.guild_id, job.user_id, roles)
        now = self._clock.now()
        grants = {
            p: await self._store.granted(job.guild_id, job.user_id, start(now))
            for p, start in (("day", day_start), ("month", month_start))
        }
        async with self._store.transaction() as tx:
            await self._check_caps(tx, job, now)
            await self._check_limits(tx, job, limits, grants, now)
            await tx.insert_job(job)

    async def strikes(self, guild_id: int | None, user_id: int) -> Standing:
        """The member's moderation standing now, replayed from the refusals the store keeps
        (the jobs that ended in one): the same in every process and after a restart."""
        ladder = self._settings.limits.moderation_cooldowns
        now = self._clock.now()
        # A refusal older than the longest step has no cooldown left; the count of its day
        # still matters for the ones after it, so whole days are read.
        since = day_start(now - max(ladder).total_seconds())
        times = await self._store.moderation_refusals(guild_id, user_id, since)
        at = (datetime.fromtimestamp(t, UTC) for t in times)
        return replay(at, datetime.fromtimestamp(now, UTC), ladder)

    async def _check_caps(self, tx: Tx, job: Job, now: float) -> None:
        lim = self._settings.limits
        unfinished = await tx.count_jobs(job.user_id, UNFINISHED)
        if unfinished >= lim.max_concurrent_per_user + lim.max_queued_per_user:
            raise QuotaExceeded("too_many_jobs")
        if lim.cooldown_seconds > 0:
            last = await tx.last_created_at(job.user_id)
            if last is not None and now - last < lim.cooldown_seconds:
                raise QuotaExceeded("cooldown", resets_at=last + lim.cooldown_seconds)

    async def _check_limits(
        self, tx: Tx, job: Job, limits: EffectiveLimits, grants: dict[str, int], now: float
    ) -> None:
        checks = (
            ("user_day", limits.user_day, day_start, next_day, grants["day"], True),
            ("user_month", limits.user_month, month_start, next_month, grants["month"], True),
            ("guild_day", limits.guild_day, day_start, next_day, 0, False),
            ("guild_month", limits.guild_month, month_start, next_month, 0, False),
        )
        for name, limit, start, reset, grant, per_user in checks:
            if limit is None or (not per_user and job.guild_id is None):
                continue
            if per_user:
                spent = await tx.spent(since=start(now), user_id=job.user_id, guild_id=job.guild_id)
            else:
                spent = await tx.spent(since=start(now), guild_id=job.guild_id)
            if spent + job.cost > limit + grant:
                raise QuotaExceeded(name, resets_at=reset(now))

    async def summary(
        self, guild_id: int | None, user_id: int, role_ids: Iterable[int] = ()
    ) -> UsageSummary:
        now = self._clock.now()
        limits = await self._policy.effective_limits(guild_id, user_id, list(role_ids))
        async with self._store.snapshot() as tx:  # a read: no write lock taken
            user = []
            guild = []
            for period, start, reset, u_lim, g_lim in (
                ("day", day_start, next_day, limits.user_day, limits.guild_day),
                ("month", month_start, next_month, limits.user_month, limits.guild_month),
            ):
                grant = await self._store.granted(guild_id, user_id, start(now))
                spent = await tx.spent(since=start(now), user_id=user_id, guild_id=guild_id)
                user_limit = None if u_lim is None else u_lim + grant
                user.append(PeriodUsage(period, spent, user_limit, reset(now)))
                if guild_id is not None:
                    g_spent = await tx.spent(since=start(now), guild_id=guild_id)
                    guild.append(PeriodUsage(period, g_spent, g_lim, reset(now)))
            queued = await tx.count_jobs(user_id, [JobState.QUEUED.value])
            running = await tx.count_jobs(user_id, UNFINISHED) - queued
        return UsageSummary(
            user=(user[0], user[1]),
            guild=(guild[0], guild[1]) if guild else None,
            running=running,
            queued=queued,
            strikes=await self.strikes(guild_id, user_id),
        )
