from __future__ import annotations

import email.utils

import pytest

from hh_bot.api.retry import create_backoff, is_balance_message, parse_retry_after

NOW = 1_700_000_000.0


@pytest.mark.parametrize(
    ("attempt", "expected"), [(1, 1.0), (2, 4.0), (3, 16.0), (4, None), (10, None)]
)
def test_create_backoff_schedule(attempt: int, expected: float | None) -> None:
    assert create_backoff(attempt) == expected


def test_create_backoff_is_one_based() -> None:
    with pytest.raises(ValueError):
        create_backoff(0)


@pytest.mark.parametrize(
    ("value", "cap", "expected"),
    [
        (None, 60.0, None),
        ("", 60.0, None),
        ("   ", 60.0, None),
        ("5", 60.0, 5.0),
        (" 2.5 ", 60.0, 2.5),
        ("0", 60.0, 0.0),
        ("-3", 60.0, 0.0),
        ("3600", 60.0, 60.0),
        ("inf", 60.0, 60.0),
        ("nan", 60.0, None),
        ("soon", 60.0, None),
        (email.utils.formatdate(NOW + 30, usegmt=True), 60.0, 30.0),
        (email.utils.formatdate(NOW + 3000, usegmt=True), 60.0, 60.0),
        (email.utils.formatdate(NOW - 30, usegmt=True), 60.0, 0.0),
    ],
)
def test_parse_retry_after(value: str | None, cap: float, expected: float | None) -> None:
    assert parse_retry_after(value, cap=cap, now=NOW) == expected


def test_parse_retry_after_date_needs_now() -> None:
    assert parse_retry_after(email.utils.formatdate(NOW, usegmt=True), cap=60.0) is None


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("insufficient account balance", True),
        ("User quota is not enough", True),
        ("insufficient_user_quota", True),
        ("Arrearage: the account is overdue", True),
        ("Your credit balance is too low", True),
        ("用户额度不足", True),
        ("余额不足", True),
        ("Requests rate limit exceeded, please try again later.", False),
        ("Throttling.RateQuota", True),  # callers strip Throttling codes before asking
        ("", False),
    ],
)
def test_is_balance_message(text: str, expected: bool) -> None:
    assert is_balance_message(text) is expected
