"""The audit channel's rows of the two matrices: the hooks they run.

Bad input (``tests/test_matrix_inputs.py``): /hh-admin audit-channel set to a channel no client
would offer (another server's, a voice channel), sent raw by the admin. Faults
(``tests/test_matrix_faults.py``): the audit channel answers 403 (50013), is gone (10003),
rate-limits (429) or drops the connection; each time the job's own outcome is untouched, and
a channel the bot can't use is told to the admin who set it, once.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from cogs.ui import strings as s
from tests.bot_world import BotWorld
from tests.fakes.discord_interactions import FakeInteraction
from tests.fakes.discord_payloads import ADMIN_ID, GUILD_ID, FakeChannel

KEY = "audit_channel"  # where a row keeps its audit channel's id (``BotWorld.extra``)


# --- bad input -------------------------------------------------------------------------------
def other_servers_channel(w: BotWorld) -> int:
    other = w.discord.add_guild("another server")
    return w.discord.add_text_channel(other.id, "their-log").id


def voice_channel(w: BotWorld) -> int:
    voice = FakeChannel(w.discord.ids.next(), "lounge", 2, GUILD_ID)
    w.discord.guild.channels.append(voice)
    w.discord.channels[voice.id] = voice
    return voice.id


def no_channel(w: BotWorld) -> None:
    return None


def audit_set_raw(
    pick: Callable[[BotWorld], int | None],
) -> Callable[[BotWorld], Awaitable[Any]]:
    """/hh-admin audit-channel set, sent raw by the admin with the channel ``pick`` makes
    (none when it makes none)."""

    async def send(w: BotWorld) -> FakeInteraction:
        channel = pick(w)
        options: dict[str, Any] = {"action": "set"}
        if channel is not None:
            options["channel"] = channel
        payload = w.discord.slash_payload(
            "hh-admin audit-channel", options, user=ADMIN_ID, enforce=False
        )
        return await w.discord.invoke_raw(payload)

    return send


# --- faults ----------------------------------------------------------------------------------
async def set_audit_channel(w: BotWorld) -> int:
    """An audit channel set by the admin, its first line posted (or refused)."""
    channel = w.discord.add_text_channel(GUILD_ID, "audit")
    handle = await w.discord.invoke_slash(
        "hh-admin audit-channel", {"action": "set", "channel": channel.id}, user=ADMIN_ID
    )
    await w.private_answer(handle)
    await w.bot.audit.idle.wait()
    w.extra[KEY] = channel.id
    return channel.id


def audit_path(w: BotWorld) -> str:
    return f"/channels/{w.extra[KEY]}/messages"


async def denied(w: BotWorld) -> None:
    channel = w.discord.add_text_channel(GUILD_ID, "audit")
    w.discord.deny_channel_send(channel.id)
    handle = await w.discord.invoke_slash(
        "hh-admin audit-channel", {"action": "set", "channel": channel.id}, user=ADMIN_ID
    )
    await w.private_answer(handle)
    w.extra[KEY] = channel.id


async def gone(w: BotWorld) -> None:
    channel_id = await set_audit_channel(w)
    del w.discord.channels[channel_id]  # deleted in Discord: 10003 from now on
    w.discord.guild.channels = [c for c in w.discord.guild.channels if c.id != channel_id]


async def rate_limited(w: BotWorld) -> None:
    await set_audit_channel(w)
    w.discord.rate_limit_next("POST", f"^{audit_path(w)}$", times=2)


async def dropped(w: BotWorld) -> None:
    await set_audit_channel(w)
    path = audit_path(w)
    w.discord.net_fault("channel_post", "drop", when=lambda rec: rec.path == path)


def told_once(code: int) -> Callable[[BotWorld], Awaitable[None]]:
    """After the job: the admin got exactly one DM about the channel, naming ``code``'s why."""

    async def check(w: BotWorld) -> None:
        await w.bot.audit.idle.wait()
        dms = [m.content or "" for m in w.discord.dm_messages(ADMIN_ID)]
        assert len(dms) == 1 and s.AUDIT_WHY[code] in dms[0], dms

    return check


def lines_arrive(count: int) -> Callable[[BotWorld], Awaitable[None]]:
    """After the job: the audit channel holds ``count`` lines (the set line, admitted, and
    delivered, less one lost to a dropped post)."""

    async def check(w: BotWorld) -> None:
        def enough() -> bool:
            return len(w.discord.channel_messages(w.extra[KEY])) >= count

        await w.discord.wait_for(enough, timeout=15.0)
        assert [m.content for m in w.discord.dm_messages(ADMIN_ID)] == [], "nobody to tell"

    return check
