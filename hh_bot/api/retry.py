"""Retry and backoff rules as pure functions, so the schedule is table-tested on its own.

Only what is safe to repeat is retried: a create that certainly never reached the API (a 429
rate limit, a refused connection or failed DNS lookup) and any poll (a GET). See
``hh_bot/api/client.py``; the wait between failed polls is ``PollPlanner.error_delay``
(``hh_bot/jobs/polling.py``).
"""

from __future__ import annotations

import email.utils
import math

#: Waits before the 2nd, 3rd and 4th create attempt after a throttle or a safe failure.
CREATE_BACKOFFS: tuple[float, ...] = (1.0, 4.0, 16.0)

#: Words that mark a 429 as "the account is out of money" rather than a rate limit.
_BALANCE_MARKERS: tuple[str, ...] = (
    "balance",
    "quota",
    "insufficient",
    "arrear",
    "credit",
    "billing",
    "payment",
    "余额",
    "额度",
    "欠费",
)


def create_backoff(attempt: int) -> float | None:
    """Seconds to wait after failed create attempt number ``attempt`` (1-based), or None.

    ``1 → 1 s, 2 → 4 s, 3 → 16 s``, then None: give up (four attempts in all).
    """
    if attempt < 1:
        raise ValueError("attempt is 1-based")
    if attempt > len(CREATE_BACKOFFS):
        return None
    return CREATE_BACKOFFS[attempt - 1]


def parse_retry_after(value: str | None, *, cap: float, now: float | None = None) -> float | None:
    """Seconds from a ``Retry-After`` header (delta-seconds or HTTP-date), capped at ``cap``.

    None when absent or unreadable; negative or past values give 0. An HTTP-date needs ``now``
    (Unix seconds, from the caller's clock); without it a date is unreadable.
    """
    if value is None:
        return None
    text = value.strip()
    if not text:
        return None
    seconds: float
    try:
        seconds = float(text)
    except ValueError:
        if now is None:
            return None
        try:
            when = email.utils.parsedate_to_datetime(text)
        except (TypeError, ValueError, IndexError):
            return None
        if when.tzinfo is None:
            return None
        seconds = when.timestamp() - now
    if math.isnan(seconds):
        return None
    return min(max(seconds, 0.0), cap)


def is_balance_message(text: str) -> bool:
    """Whether an error text says the account is out of money (balance, quota, credit…)."""
    lowered = text.casefold()
    return any(marker in lowered for marker in _BALANCE_MARKERS)
