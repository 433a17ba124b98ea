"""Run the baseline bot against the local fakes, like ``tests.launch_bot`` runs ours.

    HH_FAKE_DISCORD=http://127.0.0.1:PORT python -m bench.naive_launch [bench.floor_bot]

Applies the same two discord.py endpoint overrides and, when ``HH_CLOCK_FACTOR`` is set, makes
the baseline's sleeps run on the scaled clock shared with the benchmark process. An optional
argument names another module with a ``main()`` to run the same way (the ack-latency floor).
"""

from __future__ import annotations

import importlib
import os
import signal
import sys

import discord.gateway
import discord.http
import yarl

from bench import naive_bot
from tests.launch_bot import clock_from_env


def main() -> int:
    base = os.environ["HH_FAKE_DISCORD"].rstrip("/")
    discord.http.Route.BASE = f"{base}/api/v10"
    gateway = base.replace("http://", "ws://", 1) + "/gateway"
    discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(gateway)
    clock = clock_from_env()
    if clock is not None:
        naive_bot.sleep = clock.sleep
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))  # stop like Ctrl-C would
    module = importlib.import_module(sys.argv[1]) if len(sys.argv) > 1 else naive_bot
    module.main()
    return 0


if __name__ == "__main__":
    sys.exit(main())
