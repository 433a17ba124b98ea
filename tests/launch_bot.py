"""Test launcher: run the real entry point (``bot.main``) against the local fakes.

    HH_FAKE_DISCORD=http://127.0.0.1:PORT python -m tests.launch_bot [--sync]

Applies discord.py's two endpoint overrides (no production code knows about the fake) and, when
``HH_CLOCK_FACTOR`` is set, runs on a scaled clock shared with the test process through
``HH_CLOCK_START`` and ``HH_CLOCK_ORIGIN``. Everything else comes from the environment like in
production (DISCORD_TOKEN, APIYI_API_KEY, APIYI_BASE_URL, DATABASE_URL, …).
"""

from __future__ import annotations

import os
import sys

import discord.gateway
import discord.http
import yarl

import bot
from hh_bot.clock import Clock, ScaledClock


def clock_from_env() -> Clock | None:
    factor = os.environ.get("HH_CLOCK_FACTOR")
    if not factor:
        return None
    return ScaledClock(
        float(factor),
        start=float(os.environ["HH_CLOCK_START"]),
        origin=float(os.environ["HH_CLOCK_ORIGIN"]),
    )


def clock_env(clock: ScaledClock) -> dict[str, str]:
    start, origin = clock.origin
    return {
        "HH_CLOCK_FACTOR": str(clock.factor),
        "HH_CLOCK_START": repr(start),
        "HH_CLOCK_ORIGIN": repr(origin),
    }


def main() -> int:
    base = os.environ["HH_FAKE_DISCORD"].rstrip("/")
    discord.http.Route.BASE = f"{base}/api/v10"
    gateway = base.replace("http://", "ws://", 1) + "/gateway"
    discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(gateway)
    return bot.main(sys.argv[1:], clock=clock_from_env())


if __name__ == "__main__":
    sys.exit(main())
