"""The one-line reasons for an unreachable service, the reconnect backoff, and the log filter
that keeps discord.py's own reconnects to one line."""

from __future__ import annotations

import logging
import random
import socket
import sys

import aiohttp
import pytest

from hh_bot.logs import OneLineReconnects, RedactingFormatter
from hh_bot.reachability import ReconnectBackoff, describe


async def connect_error(url: str) -> BaseException:
    async with aiohttp.ClientSession() as session:
        try:
            await session.get(url)
        except aiohttp.ClientError as error:
            return error
    raise AssertionError("connected")


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


async def test_a_refused_connection_names_the_address_and_the_reason() -> None:
    port = closed_port()
    error = await connect_error(f"http://127.0.0.1:{port}/api/v10/users/@me")
    assert describe(error) == f"connecting to 127.0.0.1:{port} failed (Connection refused)"


async def test_a_failed_lookup_names_the_host() -> None:
    error = await connect_error("https://hh-nowhere.invalid/api/v10/webhooks/1/secret-token")
    text = describe(error)
    assert text.startswith("DNS lookup of hh-nowhere.invalid failed (")
    assert "secret-token" not in text and "/api" not in text


@pytest.mark.parametrize(
    ("error", "text"),
    [
        (aiohttp.ServerDisconnectedError(), "the server closed the connection without answering"),
        (TimeoutError(), "no answer in time"),
        (aiohttp.ServerTimeoutError("read"), "no answer in time"),
        (ConnectionResetError(104, "reset"), "Connection reset by peer"),
        (socket.gaierror(-3, "Temporary failure in name resolution"), "DNS lookup failed "
         "(Temporary failure in name resolution)"),
    ],
)  # fmt: skip
def test_other_transport_failures_read_as_one_short_reason(error: Exception, text: str) -> None:
    assert describe(error) == text


def test_the_backoff_doubles_to_its_cap_with_jitter() -> None:
    backoff = ReconnectBackoff(base=2.0, cap=60.0, rng=random.Random(7))
    delays = [backoff.next_delay() for _ in range(10)]
    steps = [2, 4, 8, 16, 32, 60, 60, 60, 60, 60]
    assert all(step / 2 <= d <= step for d, step in zip(delays, steps, strict=True)), delays
    assert len({round(d, 6) for d in delays[5:]}) == 5, "jitter: capped waits still differ"


def test_discord_reconnects_log_one_line_without_a_traceback() -> None:
    try:
        raise aiohttp.ServerDisconnectedError()
    except aiohttp.ServerDisconnectedError:
        exc_info = sys.exc_info()
    record = logging.LogRecord(
        "discord.client", logging.ERROR, __file__, 1, OneLineReconnects.MESSAGE, (7.25,), exc_info
    )
    assert OneLineReconnects().filter(record)
    text = RedactingFormatter([]).format(record)
    assert "\n" not in text and "Traceback" not in text
    assert text.endswith(
        "discord.client: lost the connection to Discord (the server closed the connection "
        "without answering); reconnecting in 7 s"
    )
