"""Budget alerts: a server's spend crossing 80 % and 100 % of its daily or monthly limit.

Spend is counted as admission counts it (charged plus reserved, ``Tx.spent``), so the numbers
match what ``Quota.admit`` refuses on. Spend only grows when a job is admitted (a commit turns a
reservation into a charge of the same amount; a release lowers it), so the check runs after each
admission, in the background (``cogs/audit_post.py``): a job never waits for it.

Each threshold is announced once per period: the store keeps a mark per server, period, period
start and threshold, and only the caller whose insert made the mark announces it
(``Store.mark_alert``), which holds across restarts and across processes. When one admission
crosses both thresholds at once, both are marked and only the higher one is announced.

"100 %" means admission now refuses every request: the limit is reached, or what is left of it
is less than the cheapest possible job (``cheapest``), so the notice's "refused until the
reset" is true even when job prices don't add up to the limit exactly.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from hh_bot.access.policy import Policy
from hh_bot.access.quota import day_start, month_start, next_day, next_month
from hh_bot.clock import Clock
from hh_bot.store.interface import Store

THRESHOLDS = (80, 100)
"""Percent of a limit at which admins are told; at 100 admission refuses new requests."""

_PERIODS: tuple[tuple[str, Callable[[float], float], Callable[[float], float]], ...] = (
    ("day", day_start, next_day),
    ("month", month_start, next_month),
)


@dataclass(frozen=True)
class BudgetAlert:
    """One threshold crossed, to announce (an event of the audit channel)."""

    guild_id: int
    period: str
    """"day" | "month"."""
    threshold: int
    """Percent of the limit (one of ``THRESHOLDS``)."""
    spent: int
    limit: int
    resets_at: float
    """When the period ends and the spend counts from zero again."""

    @property
    def refusing(self) -> bool:
        """Whether admission now refuses new requests until ``resets_at``."""
        return self.threshold >= 100


def crossed(spent: int, limit: int, cheapest: int = 0) -> tuple[int, ...]:
    """The thresholds ``spent`` has reached of ``limit`` (a positive limit), lowest first; the
    last one also when less than ``cheapest`` (the smallest cost of a job) is left."""
    full = THRESHOLDS[-1]
    return tuple(
        t
        for t in THRESHOLDS
        if spent * 100 >= t * limit or (t == full and limit - spent < cheapest)
    )


class BudgetAlerts:
    def __init__(self, store: Store, policy: Policy, clock: Clock, *, cheapest: int = 0) -> None:
        self._store = store
        self._policy = policy
        self._clock = clock
        self._cheapest = cheapest  # the smallest cost a job can have (millidollars)

    async def check(self, guild_id: int) -> list[BudgetAlert]:
        """The alerts this caller won the right to announce now (usually none)."""
        limits = await self._policy.effective_limits(guild_id, 0, ())
        now = self._clock.now()
        wanted = {"day": limits.guild_day, "month": limits.guild_month}
        spends: dict[str, int] = {}
        async with self._store.snapshot() as tx:  # a read: no write lock taken
            for period, start, _ in _PERIODS:
                limit = wanted[period]
                if limit is not None and limit > 0:
                    spends[period] = await tx.spent(since=start(now), guild_id=guild_id)
        alerts: list[BudgetAlert] = []
        for period, start, reset in _PERIODS:
            limit = wanted[period]
            if period not in spends or limit is None:
                continue
            won = [
                t
                for t in crossed(spends[period], limit, self._cheapest)
                if await self._store.mark_alert(guild_id, period, start(now), t, at=now)
            ]
            if won and won[-1] == crossed(spends[period], limit, self._cheapest)[-1]:
                alerts.append(
                    BudgetAlert(guild_id, period, won[-1], spends[period], limit, reset(now))
                )
        return alerts
