"""Budget alerts on both store backends: the mark is made once per server, period, period start
and threshold (the one inserter announces), also when two callers race; ``BudgetAlerts`` reads
spend as admission counts it (reserved plus charged, released excluded) against the server's
limits and announces each threshold once per period."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from hh_bot.access.alerts import BudgetAlerts, crossed
from hh_bot.access.policy import Policy
from hh_bot.access.quota import day_start, month_start, next_day, next_month
from hh_bot.config import Defaults, Limits
from hh_bot.store.interface import Store
from tests.test_store import T0, S, finish, insert, make_job

GUILD = 100


@dataclass
class StillClock:
    t: float

    def now(self) -> float:
        return self.t

    async def sleep(self, seconds: float) -> None:
        self.t += seconds


def alerts_on(
    store: Store, clock: StillClock, cheapest: int = 0, **limits: int | None
) -> BudgetAlerts:
    values = {"user_daily": None, "user_monthly": None, "guild_daily": None, **limits}
    policy = Policy(store, Limits(**values), Defaults())
    return BudgetAlerts(store, policy, clock, cheapest=cheapest)


def test_crossed_counts_whole_percent_exactly() -> None:
    assert crossed(799, 1000) == ()
    assert crossed(800, 1000) == (80,)
    assert crossed(999, 1000) == (80,)
    assert crossed(1000, 1000) == (80, 100)
    assert crossed(5000, 1000) == (80, 100)
    assert crossed(800, 1000, cheapest=200) == (80,), "one more job still fits"
    assert crossed(801, 1000, cheapest=200) == (80, 100), "none fits any more: refusing"


async def test_full_when_no_job_fits_in_what_is_left(store: Store) -> None:
    clock = StillClock(day_start(T0) + 60)
    alerts = alerts_on(store, clock, cheapest=300, guild_daily=1000)
    await insert(store, make_job("a", cost=900, created_at=clock.t))  # 100 left < 300
    [alert] = await alerts.check(GUILD)
    assert (alert.threshold, alert.refusing, alert.spent) == (100, True, 900)


async def test_a_mark_is_made_once_even_when_callers_race(store: Store) -> None:
    made = await asyncio.gather(*(store.mark_alert(GUILD, "day", T0, 80, at=T0) for _ in range(6)))
    assert sorted(made) == [False] * 5 + [True]
    assert await store.mark_alert(GUILD, "day", T0, 100, at=T0) is True
    assert await store.mark_alert(GUILD, "month", T0, 80, at=T0) is True
    assert await store.mark_alert(GUILD, "day", T0 + 86400, 80, at=T0) is True, "a new day"
    assert await store.mark_alert(GUILD + 1, "day", T0, 80, at=T0) is True, "another server"
    assert await store.mark_alert(GUILD, "day", T0, 80, at=T0 + 5) is False


async def test_each_threshold_is_announced_once_per_period(store: Store) -> None:
    clock = StillClock(day_start(T0) + 3600)
    alerts = alerts_on(store, clock, guild_daily=1000, guild_monthly=10_000)
    now = clock.t
    await insert(store, make_job("a", cost=700, created_at=now))
    assert await alerts.check(GUILD) == []
    await insert(store, make_job("b", cost=100, created_at=now))  # 800 of 1000: 80 %
    [alert] = await alerts.check(GUILD)
    assert (alert.period, alert.threshold, alert.spent, alert.limit) == ("day", 80, 800, 1000)
    assert not alert.refusing and alert.resets_at == next_day(now)
    assert await alerts.check(GUILD) == [], "once"
    await insert(store, make_job("c", cost=200, created_at=now))  # 1000 of 1000: 100 %
    [full] = await alerts.check(GUILD)
    assert (full.threshold, full.refusing) == (100, True)
    assert await alerts.check(GUILD) == []

    clock.t = next_day(now) + 60  # a new day: the day's marks start again, the month's stay
    await insert(store, make_job("d", cost=900, created_at=clock.t))
    [again] = await alerts.check(GUILD)
    assert (again.period, again.threshold, again.spent) == ("day", 80, 900)


async def test_released_spend_does_not_count_and_a_jump_announces_the_higher_only(
    store: Store,
) -> None:
    clock = StillClock(month_start(T0) + 86400 * 3)
    alerts = alerts_on(store, clock, guild_daily=None, guild_monthly=1000)
    failed = make_job("failed", cost=900, created_at=clock.t)
    await insert(store, failed)
    await store.save(finish(failed, S.FAILED, clock.t + 200))  # released: 0 spent
    assert await alerts.check(GUILD) == []
    await insert(store, make_job("big", cost=1200, created_at=clock.t))  # 0 → 120 %
    [alert] = await alerts.check(GUILD)
    assert (alert.period, alert.threshold, alert.spent) == ("month", 100, 1200)
    assert alert.resets_at == next_month(clock.t)
    assert await store.mark_alert(GUILD, "month", month_start(clock.t), 80, at=0) is False, (
        "the lower threshold was marked too: it is not announced later"
    )


async def test_no_limit_no_alert_and_other_servers_do_not_count(store: Store) -> None:
    clock = StillClock(day_start(T0) + 60)
    await insert(store, make_job("elsewhere", guild_id=999, cost=5000, created_at=clock.t))
    assert await alerts_on(store, clock, guild_daily=None).check(GUILD) == []
    assert await alerts_on(store, clock, guild_daily=1000).check(GUILD) == []
    assert await alerts_on(store, clock, guild_daily=0).check(GUILD) == [], "0: refuses all"
