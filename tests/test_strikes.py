"""Moderation strikes: per-UTC-day counts, the cooldown ladder, midnight, configuration."""

from __future__ import annotations

import datetime as dt

import pytest

from hh_bot.access.strikes import (
    DEFAULT_LADDER,
    StrikeDay,
    add_strike,
    check_ladder,
    cooldown_after,
    counts_as_strike,
    parse_ladder,
    replay,
    standing,
    utc_day,
)
from hh_bot.errors import ModerationBlocked, RejectedInput

H = dt.timedelta(hours=1)
M = dt.timedelta(minutes=1)
T0 = dt.datetime(2026, 11, 30, 8, 0, tzinfo=dt.UTC)


def strikes(*times: dt.datetime) -> StrikeDay | None:
    record = None
    for at in times:
        record = add_strike(record, at)
    return record


@pytest.mark.parametrize(
    ("nth", "cooldown"),
    [(1, 0 * H), (2, 1 * H), (3, 2 * H), (4, 10 * H), (5, 10 * H), (50, 10 * H)],
)
def test_default_ladder(nth: int, cooldown: dt.timedelta) -> None:
    assert cooldown_after(nth) == cooldown
    assert cooldown_after(nth, DEFAULT_LADDER) == cooldown


def test_strike_numbers_are_one_based() -> None:
    with pytest.raises(ValueError):
        cooldown_after(0)


def test_first_strike_costs_nothing() -> None:
    now = standing(strikes(T0), T0 + M)
    assert now.strikes_today == 1
    assert not now.cooling and now.cooling_until is None
    assert now.next_cooldown == H


def test_second_strike_one_hour_then_free() -> None:
    record = strikes(T0, T0 + 10 * M)
    assert standing(record, T0 + 10 * M).cooling_until == T0 + 10 * M + H
    assert standing(record, T0 + 69 * M).cooling
    assert not standing(record, T0 + 70 * M).cooling  # the end is exclusive
    assert standing(record, T0 + 70 * M).next_cooldown == 2 * H


def test_third_and_fourth() -> None:
    third = strikes(T0, T0 + M, T0 + 2 * M)
    assert standing(third, T0 + 2 * M).cooling_until == T0 + 2 * M + 2 * H
    fourth = add_strike(third, T0 + 3 * H)
    assert fourth.count == 4
    assert standing(fourth, T0 + 3 * H).cooling_until == T0 + 13 * H
    assert standing(fourth, T0 + 3 * H).next_cooldown == 10 * H


def test_count_resets_at_utc_midnight_but_a_running_cooldown_does_not() -> None:
    late = dt.datetime(2026, 11, 30, 22, 0, tzinfo=dt.UTC)
    record = strikes(late - 3 * H, late - 2 * H, late - H, late)  # fourth at 22:00 → 08:00
    after_midnight = late + 3 * H
    now = standing(record, after_midnight)
    assert now.strikes_today == 0
    assert now.cooling_until == late + 10 * H
    assert now.next_cooldown == 0 * H
    # A job admitted before the cooldown and refused after midnight: first strike of the new
    # day (no cooldown of its own), the old cooldown still runs.
    next_day = add_strike(record, after_midnight)
    assert next_day.count == 1 and next_day.day == utc_day(after_midnight)
    assert standing(next_day, after_midnight).cooling_until == late + 10 * H


def test_day_is_the_utc_day_whatever_the_offset() -> None:
    tokyo = dt.timezone(dt.timedelta(hours=9))
    at = dt.datetime(2026, 12, 1, 8, 0, tzinfo=tokyo)  # 23:00 UTC on the 30th
    assert utc_day(at) == dt.date(2026, 11, 30)
    record = strikes(dt.datetime(2026, 11, 30, 1, 0, tzinfo=dt.UTC), at)
    assert record is not None and record.count == 2
    with pytest.raises(ValueError):
        utc_day(dt.datetime(2026, 11, 30, 1, 0))


def test_replay_from_raw_times_in_any_order() -> None:
    times = [T0 + 2 * M, T0, T0 + M]
    assert replay(times, T0 + 2 * M) == standing(strikes(T0, T0 + M, T0 + 2 * M), T0 + 2 * M)
    assert replay([], T0) == standing(None, T0)
    assert not standing(None, T0).cooling


def test_custom_ladder() -> None:
    ladder = (5 * M, 30 * M)
    record = None
    record = add_strike(record, T0, ladder)
    assert standing(record, T0, ladder).cooling_until == T0 + 5 * M
    record = add_strike(record, T0 + 5 * M, ladder)
    record = add_strike(record, T0 + 35 * M, ladder)
    assert standing(record, T0 + 35 * M, ladder).cooling_until == T0 + 65 * M


@pytest.mark.parametrize(
    ("text", "ladder"),
    [
        ("0,1h,2h,10h", DEFAULT_LADDER),
        ("0, 1, 2, 10", DEFAULT_LADDER),
        ("0s,60m,7200s,10H", DEFAULT_LADDER),
        ("0.5", (dt.timedelta(minutes=30),)),
    ],
)
def test_parse_ladder(text: str, ladder: tuple[dt.timedelta, ...]) -> None:
    assert parse_ladder(text) == ladder


@pytest.mark.parametrize("text", ["", "1h,,2h", "-1h", "1d", "one"])
def test_parse_ladder_refuses(text: str) -> None:
    with pytest.raises(ValueError):
        parse_ladder(text)


def test_check_ladder() -> None:
    with pytest.raises(ValueError):
        check_ladder(())
    with pytest.raises(ValueError):
        check_ladder((H, -H))


def test_only_moderation_refusals_count() -> None:
    assert counts_as_strike(ModerationBlocked("x", status=400, code="DataInspectionFailed"))
    assert not counts_as_strike(RejectedInput("x", status=400, code="InvalidParameter"))
    assert not counts_as_strike(ValueError())
