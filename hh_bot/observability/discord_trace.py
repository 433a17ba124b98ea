"""Counting Discord's 429s with an aiohttp trace on the bot's own HTTP session.

discord.py takes an ``http_trace`` (an ``aiohttp.TraceConfig``) for the session every REST call
goes through, interaction callbacks and webhooks included. The trace sees the status of every
response before discord.py decides what to do with it, so each 429 is counted once whichever
branch handles it (retry, sub-limit, global limit, too long to wait). A filter on the
``discord.http`` log lines would depend on their wording, which differs between those branches
and between releases. This module needs aiohttp only: the core stays free of discord.
"""

from __future__ import annotations

from types import SimpleNamespace

import aiohttp

from hh_bot.observability.metrics import Metrics


def rate_limit_trace(metrics: Metrics) -> aiohttp.TraceConfig:
    """A trace config that counts every HTTP 429 answer into ``metrics.discord_429``."""

    async def on_request_end(
        session: aiohttp.ClientSession,
        context: SimpleNamespace,
        params: aiohttp.TraceRequestEndParams,
    ) -> None:
        if params.response.status == 429:
            metrics.discord_429.inc()

    trace = aiohttp.TraceConfig()
    trace.on_request_end.append(on_request_end)
    return trace
