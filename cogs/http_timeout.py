"""Timeouts of the bot's own choosing for its REST calls to Discord.

discord.py builds its aiohttp session in ``HTTPClient.static_login`` without a timeout, so
aiohttp's default applies: 300 s for the whole request. A stalled connection then holds a job's
delivery for five minutes. The bot instead bounds the two waits that stall (connecting, and the
answer after the request was sent: ``sock_read`` starts only once the body is written, so a
large upload on a slow link is not cut off) and leaves the total open.

Every Discord call made through the client (bot token, interaction callbacks and followups, and
``Webhook.partial(..., client=bot)``) goes through that one session.
"""

from __future__ import annotations

import logging

import aiohttp
import discord

log = logging.getLogger(__name__)


def discord_timeout(seconds: float) -> aiohttp.ClientTimeout:
    return aiohttp.ClientTimeout(total=None, sock_connect=seconds, sock_read=seconds)


def set_discord_timeout(client: discord.Client, seconds: float) -> bool:
    """Give the client's REST session ``discord_timeout(seconds)``; False when there is no
    session yet (before login) or discord.py keeps it elsewhere than 2.x does."""
    session = getattr(client.http, "_HTTPClient__session", None)
    if not isinstance(session, aiohttp.ClientSession):
        log.warning("Discord REST session not found; keeping discord.py's timeouts")
        return False
    session._timeout = discord_timeout(seconds)
    return True
