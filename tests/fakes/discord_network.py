"""Faults of the network between the bot and the fake Discord, by kind of route.

A real connection can fail where no HTTP status is ever sent: discord.py passes those failures
through untouched (``aiohttp.ClientError``, ``OSError``, ``TimeoutError``). The fake produces
three of them, each for the next request(s) of one kind of route:

* ``drop``: the request arrives in full and the connection is closed without handling it (the
  effect never happens: nothing is stored or edited);
* ``lost``: the request is handled (the message is stored, edited or read) and the connection
  is closed before the answer is written: the effect happened, the client never learns it;
* ``stall``: the request is held unhandled until the fake closes, longer than any client
  timeout (the effect never happens).

Route kinds, as the bot uses them:

=============== ==========================================================================
``callback``    interaction callbacks (defer, respond, update)
``followup``    followup posts by interaction token (the public progress reply)
``webhook_edit``edits by interaction token (progress edits, the upload while the token lives)
``channel_post``bot-token posts in a guild channel
``channel_edit``bot-token edits of a message
``dm``          opening a DM channel and posting in it
``history``     reading messages: channel history, fetch by id (bot or interaction token)
``delete``      deleting a message (bot or interaction token)
=============== ==========================================================================
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from aiohttp import web

from tests.fakes.discord_rest import RecordedRequest

if TYPE_CHECKING:
    from tests.fakes.discord import FakeDiscord

MODES = frozenset({"drop", "lost", "stall"})
KINDS = frozenset(
    {
        "callback",
        "followup",
        "webhook_edit",
        "channel_post",
        "channel_edit",
        "dm",
        "history",
        "delete",
    }
)

_CALLBACK = re.compile(r"^/interactions/\d+/[^/]+/callback$")
_FOLLOWUP = re.compile(r"^/webhooks/\d+/[^/]+$")
_WEBHOOK_MESSAGE = re.compile(r"^/webhooks/\d+/[^/]+/messages/(@original|\d+)$")
_CHANNEL_MESSAGES = re.compile(r"^/channels/(?P<cid>\d+)/messages$")
_CHANNEL_MESSAGE = re.compile(r"^/channels/\d+/messages/\d+$")


def route_kind(method: str, path: str, is_dm: Callable[[int], bool]) -> str | None:
    """The kind of route a request goes to (see the module docstring), or None."""
    if method == "POST" and _CALLBACK.match(path):
        return "callback"
    if method == "POST" and _FOLLOWUP.match(path):
        return "followup"
    if _WEBHOOK_MESSAGE.match(path):
        return {"PATCH": "webhook_edit", "GET": "history", "DELETE": "delete"}.get(method)
    if method == "POST" and path == "/users/@me/channels":
        return "dm"
    match = _CHANNEL_MESSAGES.match(path)
    if match is not None:
        if method == "GET":
            return "history"
        if method == "POST":
            return "dm" if is_dm(int(match["cid"])) else "channel_post"
    if _CHANNEL_MESSAGE.match(path):
        return {"PATCH": "channel_edit", "GET": "history", "DELETE": "delete"}.get(method)
    return None


@dataclass
class NetFault:
    """The next ``times`` requests of route kind ``kind`` (for which ``when`` holds) fail the
    way ``mode`` says."""

    kind: str
    mode: str
    times: int = 1
    when: Callable[[RecordedRequest], bool] | None = None

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"unknown route kind {self.kind!r}; one of {sorted(KINDS)}")
        if self.mode not in MODES:
            raise ValueError(f"unknown network fault {self.mode!r}; one of {sorted(MODES)}")

    def matches(self, kind: str | None, rec: RecordedRequest) -> bool:
        return kind == self.kind and (self.when is None or self.when(rec))


def net_fault(
    fake: FakeDiscord,
    kind: str,
    mode: str,
    times: int = 1,
    *,
    when: Callable[[RecordedRequest], bool] | None = None,
) -> NetFault:
    """Make the next ``times`` requests of route ``kind`` (for which ``when`` holds) fail at
    the connection: ``drop`` (unhandled), ``lost`` (handled, answer lost) or ``stall``
    (unhandled, held until the fake closes)."""
    fault = NetFault(kind, mode, times, when)
    fake.net_faults.append(fault)
    return fault


def take_fault(fake: FakeDiscord, rec: RecordedRequest) -> NetFault | None:
    """The fault armed for this request, if any (used up by it); noted on the record."""

    def is_dm(channel_id: int) -> bool:
        chan = fake.channels.get(channel_id)
        return chan is not None and chan.is_dm

    kind = route_kind(rec.method, rec.path, is_dm)
    fault = next((f for f in fake.net_faults if f.matches(kind, rec)), None)
    if fault is not None:
        fault.times -= 1
        if fault.times <= 0:
            fake.net_faults.remove(fault)
        rec.net_fault = fault.mode
    return fault


async def fail_connection(fake: FakeDiscord, request: web.Request, mode: str) -> web.Response:
    """Close the connection without an answer, after a stall if ``mode`` says so."""
    await fake.notify()
    if mode == "stall":
        await fake.closing.wait()
    if request.transport is not None:
        request.transport.close()
    return web.Response(status=204)  # never written: the connection is gone
