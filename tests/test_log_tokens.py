"""Interaction tokens never reach the log, even at DEBUG (issue #9 item 8).

An interaction token lets anyone answer as the bot for 15 minutes, and discord.py logs it at
DEBUG in the URLs of webhook and interaction calls and in the gateway events it receives. The
real entry point runs as a subprocess at DEBUG against the fake Discord and the fake API; a
/video runs to its delivered video, and the whole output is scanned for the token.
"""

from __future__ import annotations

import asyncio
import logging
import signal
from pathlib import Path

import pytest

from hh_bot.clock import ScaledClock
from hh_bot.logs import MASK, RedactingFormatter
from tests.bot_world import API_KEY, BOT_TOKEN
from tests.fakes.discord import FakeDiscord
from tests.fakes.discord_payloads import TEXT_CHANNEL_ID
from tests.fakes.happyhorse import FakeHappyHorse, TaskScript
from tests.launch_bot import clock_env
from tests.test_launcher import bot_env, start_bot

IMAGE = {
    "filename": "a.png",
    "data": b"\x89PNG" + bytes(16),
    "size": 200_000,
    "width": 800,
    "height": 600,
    "content_type": "image/png",
    "url": "https://cdn.discordapp.com/attachments/1/2/a.png",
}
FACTOR = 50.0
TOKEN = "aW50ZXJhY3Rpb246MTIzNDU2Nzg5MDpzZWNyZXQ.x-Y_z"


async def _read_all(proc: asyncio.subprocess.Process) -> str:
    """Everything the process writes to stdout, read as it is written, until it exits."""
    assert proc.stdout is not None
    chunks = []
    while chunk := await proc.stdout.read(65536):
        chunks.append(chunk)
    return b"".join(chunks).decode()


def fragments(token: str) -> list[str]:
    """The token and pieces of it long enough to be useful to someone reading the log."""
    return [token, token[:24], token[-16:]]


async def test_debug_logs_of_a_real_interaction_carry_no_token(tmp_path: Path) -> None:
    clock = ScaledClock(FACTOR)  # shared with the bot process, so polls come in simulated time
    hh = FakeHappyHorse(api_key=API_KEY, clock=clock, default_script=TaskScript(duration=60))
    await hh.start()
    try:
        async with FakeDiscord(token=BOT_TOKEN) as fake:
            env = {
                **bot_env(tmp_path, fake.url, hh.base_url, **clock_env(clock)),
                "LOG_LEVEL": "DEBUG",
            }
            proc = await start_bot(tmp_path, env)
            # Read the log as it comes: DEBUG output (the synced commands with their zh-CN
            # localisations alone are tens of KB) fills a 64 KiB pipe, and a bot blocked on
            # writing its log stops working.
            reader = asyncio.create_task(_read_all(proc))
            try:
                await fake.wait_for(lambda: fake.gateway.identify_count > 0, timeout=20)
                handle = await fake.invoke_slash(
                    "video", {"prompt": "character1 waves", "image1": IMAGE}
                )

                def delivered() -> bool:
                    return any(
                        m.author.id == fake.bot.id and m.attachments
                        for m in fake.channel_messages(TEXT_CHANNEL_ID)
                    )

                await fake.wait_for(delivered, timeout=120)  # a safety net: a subprocess bot
            finally:
                if proc.returncode is None:
                    proc.send_signal(signal.SIGTERM)
                await asyncio.wait_for(proc.wait(), 20)
                output = await reader
        # The token did travel (so the scan is not vacuous) ...
        assert any(handle.token in r.path for r in fake.requests)
        assert "INTERACTION_CREATE" in output, "the gateway event was not logged"
        assert "/webhooks/" in output, "no webhook call was logged"
        # ... and the log shows where it was, never what it was.
        assert [f for f in fragments(handle.token) if f in output] == [], output[-3000:]
        assert f"/{MASK}/" in output and f"'token': '{MASK}'" in output
        assert BOT_TOKEN not in output and API_KEY not in output
    finally:
        await hh.close()


@pytest.mark.parametrize(
    "line",
    [
        # discord.webhook.async_, every followup and edit of the reply
        "Webhook ID 11 with PATCH https://discord.com/api/v10/webhooks/11/{t}/messages/@original "
        "has returned status code 200",
        # discord.http, the first response to an interaction
        "POST https://discord.com/api/v10/interactions/22/{t}/callback with None has returned 204",
        "POST https://discord.com/api/v10/interactions/22/{t}/callback?with_response=true",
        # discord.gateway, every event received
        "For Shard ID None: WebSocket Event: {{'t': 'INTERACTION_CREATE', 'd': {{'id': '22', "
        "'token': '{t}', 'type': 2}}}}",
        # a stored reply target, as JSON
        '{{"channel_id": 9, "interaction_token": "{t}", "token_expires_at": 1.0}}',
        # an aiohttp error naming the URL
        "ClientResponseError: 404, message='Not Found', "
        "url='http://127.0.0.1:1/api/v10/webhooks/11/{t}'",
    ],
)
def test_token_shapes_discord_logs_are_masked(line: str) -> None:
    formatter = RedactingFormatter([])
    text = formatter.format(logging.makeLogRecord({"msg": line.format(t=TOKEN)}))
    assert [f for f in fragments(TOKEN) if f in text] == [], text
    assert MASK in text


def test_masking_keeps_what_is_not_a_token() -> None:
    formatter = RedactingFormatter([])
    plain = "job 5 waits 3 s; token_expires_at=1700000000.0; /channels/9/messages/10"
    assert formatter.format(logging.makeLogRecord({"msg": plain})).endswith(": " + plain)
