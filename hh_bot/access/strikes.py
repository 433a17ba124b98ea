"""Provider moderation refusals counted per member per UTC day, and the cooldowns they earn.

Pure functions over counts and times. The store keeps one ``StrikeDay`` per member (the day of
their latest refusal, how many that day, when the latest was, until when they cool down);
``add_strike`` folds a new refusal into it, ``standing`` answers admission and ``/quota``.
The count starts again at midnight UTC, but a cooldown already running is not cut short by
midnight: a 10 h cooldown earned at 23:00 lasts until 09:00.

The ladder is a tuple of cooldowns indexed by the day's strike number: ``ladder[0]`` after the
first, ``ladder[1]`` after the second, and the last entry for every strike beyond its length.
The default gives none after the 1st, 1 h after the 2nd, 2 h after the 3rd and 10 h from the
4th on.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable
from dataclasses import dataclass

from hh_bot.errors import ModerationBlocked

Ladder = tuple[dt.timedelta, ...]

DEFAULT_LADDER: Ladder = (
    dt.timedelta(0),
    dt.timedelta(hours=1),
    dt.timedelta(hours=2),
    dt.timedelta(hours=10),
)


def counts_as_strike(error: BaseException) -> bool:
    """Whether a job failure is a provider moderation refusal (DataInspectionFailed and the
    other codes ``hh_bot.api.answers`` classifies as moderation)."""
    return isinstance(error, ModerationBlocked)


def check_ladder(ladder: Ladder) -> Ladder:
    """``ladder`` itself if usable: at least one step, none negative."""
    if not ladder or any(step < dt.timedelta(0) for step in ladder):
        raise ValueError(ladder)
    return ladder


_STEP = re.compile(r"(\d+(?:\.\d+)?)([smh]?)")
_UNIT = {"s": 1.0, "m": 60.0, "h": 3600.0, "": 3600.0}


def parse_ladder(text: str) -> Ladder:
    """A ladder from configuration: comma-separated durations, hours unless suffixed with
    ``s``, ``m`` or ``h`` (``"0,1h,2h,10h"`` is the default). ``ValueError`` names the bad
    step."""
    steps = []
    for part in text.split(","):
        found = _STEP.fullmatch(part.strip().lower())
        if found is None:
            raise ValueError(part)
        steps.append(dt.timedelta(seconds=float(found.group(1)) * _UNIT[found.group(2)]))
    return check_ladder(tuple(steps))


def utc_day(at: dt.datetime) -> dt.date:
    """The UTC calendar day of an aware time."""
    if at.tzinfo is None:
        raise ValueError("naive datetime")
    return at.astimezone(dt.UTC).date()


def cooldown_after(nth: int, ladder: Ladder = DEFAULT_LADDER) -> dt.timedelta:
    """The cooldown the ``nth`` strike of a day earns (1-based)."""
    if nth < 1:
        raise ValueError(nth)
    return ladder[min(nth, len(ladder)) - 1]


@dataclass(frozen=True)
class StrikeDay:
    """One member's refusals on their latest day with any, and the cooldown they run."""

    day: dt.date
    """The UTC day."""
    count: int
    """Refusals that day."""
    last_at: dt.datetime
    """When the latest one came (aware)."""
    cooling_until: dt.datetime | None = None
    """The end of the longest cooldown earned so far, carried across midnight."""


def add_strike(
    previous: StrikeDay | None, at: dt.datetime, ladder: Ladder = DEFAULT_LADDER
) -> StrikeDay:
    """The record after one more refusal at ``at``; a new UTC day starts the count again but
    keeps a cooldown still running (a job admitted before it can still be refused after)."""
    day = utc_day(at)
    same_day = previous is not None and previous.day == day
    count = previous.count + 1 if previous is not None and same_day else 1
    last_at = max(at, previous.last_at) if previous is not None and same_day else at
    step = cooldown_after(count, ladder)
    ends = [at + step] if step > dt.timedelta(0) else []
    if previous is not None and previous.cooling_until is not None:
        ends.append(previous.cooling_until)
    return StrikeDay(day, count, last_at, max(ends) if ends else None)


@dataclass(frozen=True)
class Standing:
    """What admission and ``/quota`` need to know about one member now."""

    strikes_today: int
    """Refusals so far in the current UTC day."""
    cooling_until: dt.datetime | None
    """The end of a cooldown still running, else ``None``."""
    next_cooldown: dt.timedelta
    """What one more refusal today would cost (for a warning)."""

    @property
    def cooling(self) -> bool:
        return self.cooling_until is not None


def standing(
    record: StrikeDay | None, now: dt.datetime, ladder: Ladder = DEFAULT_LADDER
) -> Standing:
    """The member's standing at ``now`` given their latest ``StrikeDay``."""
    today = record.count if record is not None and record.day == utc_day(now) else 0
    until = record.cooling_until if record is not None else None
    return Standing(
        strikes_today=today,
        cooling_until=until if until is not None and until > now else None,
        next_cooldown=cooldown_after(today + 1, ladder),
    )


def replay(
    times: Iterable[dt.datetime], now: dt.datetime, ladder: Ladder = DEFAULT_LADDER
) -> Standing:
    """``standing`` from a member's raw refusal times (any order), for stores that keep events
    rather than a running record."""
    record: StrikeDay | None = None
    for at in sorted(times):
        record = add_strike(record, at, ladder)
    return standing(record, now, ladder)
