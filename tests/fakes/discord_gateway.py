"""The fake Discord gateway: one websocket endpoint speaking Discord's gateway protocol.

HELLO → (heartbeat ⇄ ACK) → IDENTIFY → READY + GUILD_CREATE per guild → dispatches.
RESUME replays the events the client missed and sends RESUMED; an unknown session gets
INVALID_SESSION. Frames are plain JSON text, whatever `compress` the client asked for.

Shards, as Discord routes them: a session that IDENTIFYs with ``shard: [id, count]`` receives
only the guilds of that shard (``shard_of``: ``(guild_id >> 22) % count``) in READY and
GUILD_CREATE, and every later event of such a guild (an interaction, a message) goes to the
live session of its shard; DMs go to shard 0. Several bot processes (or one AutoShardedBot)
on one fake then each see exactly their guilds' interactions. Unsharded sessions get everything.
"""

from __future__ import annotations

import asyncio
import json
import logging
import uuid
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from aiohttp import WSMsgType, web

from tests.fakes.discord_payloads import APP_ID, JSON, FakeUser

if TYPE_CHECKING:
    from tests.fakes.discord import FakeDiscord

log = logging.getLogger(__name__)

HEARTBEAT_INTERVAL_MS = 41_250


def shard_of(guild_id: int, shard_count: int) -> int:
    """The shard Discord delivers ``guild_id``'s events to."""
    return (guild_id >> 22) % shard_count


def event_guild(event: str, data: JSON) -> int | None:
    """The guild an event belongs to (None: a DM or a global event)."""
    raw = data.get("id") if event == "GUILD_CREATE" else data.get("guild_id")
    return int(raw) if raw else None


@dataclass
class GatewaySession:
    session_id: str
    intents: int
    shard: tuple[int, int] | None = None  # (id, count) from IDENTIFY; None: unsharded
    seq: int = 0
    sent: list[JSON] = field(default_factory=list)  # dispatch frames, for RESUME replay
    ws: web.WebSocketResponse | None = None
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)


class FakeGateway:
    """Gateway state: sessions, the live connection, and counters tests can assert on."""

    def __init__(self, fake: FakeDiscord) -> None:
        self.fake = fake
        self.sessions: dict[str, GatewaySession] = {}
        self.current: GatewaySession | None = None
        self.identify_count = 0
        self.resume_count = 0
        self.heartbeat_count = 0
        self.received: list[JSON] = []  # every frame the client sent
        self._sockets: set[web.WebSocketResponse] = set()
        self.by_shard: dict[int, GatewaySession] = {}  # shard id → its latest session
        self.shard_count: int | None = None

    @property
    def connected(self) -> bool:
        cur = self.current
        return cur is not None and cur.ws is not None and not cur.ws.closed

    async def handle(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse(max_msg_size=0)
        await ws.prepare(request)
        self._sockets.add(ws)
        try:
            await self._send(ws, {"op": 10, "d": {"heartbeat_interval": HEARTBEAT_INTERVAL_MS}})
            async for msg in ws:
                if msg.type is not WSMsgType.TEXT:
                    continue
                frame = json.loads(msg.data)
                self.received.append(frame)
                await self._on_frame(ws, frame)
        finally:
            self._sockets.discard(ws)
            cur = self.current
            if cur is not None and cur.ws is ws:
                cur.ws = None
            for session in self.by_shard.values():
                if session.ws is ws:
                    session.ws = None
            await self.fake.notify()
        return ws

    async def _on_frame(self, ws: web.WebSocketResponse, frame: JSON) -> None:
        op, data = frame.get("op"), frame.get("d")
        if op == 1:
            self.heartbeat_count += 1
            await self._send(ws, {"op": 11})
        elif op == 2:
            await self._identify(ws, data or {})
        elif op == 6:
            await self._resume(ws, data or {})
        elif op == 8:
            await self._members_chunk(ws, data or {})

    async def _identify(self, ws: web.WebSocketResponse, data: JSON) -> None:
        if data.get("token") != self.fake.token:
            await ws.close(code=4004, message=b"Authentication failed.")
            return
        session = GatewaySession(session_id=uuid.uuid4().hex, intents=int(data.get("intents", 0)))
        guilds = list(self.fake.guilds.values())
        if data.get("shard"):
            shard_id, count = (int(x) for x in data["shard"])
            session.shard = (shard_id, count)
            self.by_shard[shard_id], self.shard_count = session, count
            guilds = [g for g in guilds if shard_of(g.id, count) == shard_id]
        else:
            self.by_shard, self.shard_count = {}, None
        self.sessions[session.session_id] = session
        self.current, session.ws = session, ws
        ready = ready_payload(self.fake.bot, [g.id for g in guilds], session.session_id, self.url)
        if "shard" in data:  # AutoShardedClient reads it back
            ready["shard"] = data["shard"]
        await self._dispatch_to(session, "READY", ready)
        for guild in guilds:
            await self._dispatch_to(session, "GUILD_CREATE", guild.create_payload())
        self.identify_count += 1
        await self.fake.notify()

    async def _resume(self, ws: web.WebSocketResponse, data: JSON) -> None:
        session = self.sessions.get(str(data.get("session_id")))
        if session is None or data.get("token") != self.fake.token:
            await self._send(ws, {"op": 9, "d": False})
            return
        self.current, session.ws = session, ws
        if session.shard is not None:
            self.by_shard[session.shard[0]] = session
        last = int(data.get("seq") or 0)
        async with session.lock:
            for frame in session.sent:
                if frame["s"] > last:
                    await self._send(ws, frame)
            session.seq += 1
            await self._send(ws, {"op": 0, "t": "RESUMED", "s": session.seq, "d": {}})
        self.resume_count += 1
        await self.fake.notify()

    async def _members_chunk(self, ws: web.WebSocketResponse, data: JSON) -> None:
        guild = self.fake.guilds.get(int(data.get("guild_id", 0)))
        if guild is None:
            return
        chunk: JSON = {
            "guild_id": str(guild.id),
            "members": [guild.member_payload(uid) for uid in guild.members],
            "chunk_index": 0,
            "chunk_count": 1,
        }
        if data.get("nonce"):
            chunk["nonce"] = data["nonce"]
        await self.dispatch("GUILD_MEMBERS_CHUNK", chunk)

    @property
    def url(self) -> str:
        return self.fake.url.replace("http://", "ws://", 1) + "/gateway"

    def session_for(self, guild_id: int | None) -> GatewaySession | None:
        """The session an event of ``guild_id`` goes to: its shard's when the bot is sharded
        (DMs: shard 0), else the live one."""
        if self.shard_count is None:
            return self.current
        return self.by_shard.get(0 if guild_id is None else shard_of(guild_id, self.shard_count))

    async def dispatch(self, event: str, data: JSON) -> bool:
        """Send a DISPATCH to the session of the event's shard; False when no bot runs it."""
        session = self.session_for(event_guild(event, data))
        if session is None:
            return False
        return await self._dispatch_to(session, event, data)

    async def _dispatch_to(self, session: GatewaySession, event: str, data: JSON) -> bool:
        async with session.lock:
            session.seq += 1
            frame = {"op": 0, "t": event, "s": session.seq, "d": data}
            session.sent.append(frame)
            ws = session.ws
            if ws is None or ws.closed:
                return False  # kept for RESUME replay
            await self._send(ws, frame)
        return True

    async def request_reconnect(self) -> None:
        """Send op 7 RECONNECT: the client reconnects to resume_gateway_url and RESUMEs."""
        cur = self.current
        if cur is not None and cur.ws is not None:
            await self._send(cur.ws, {"op": 7, "d": None})

    async def close_all(self, code: int = 1001) -> None:
        for ws in list(self._sockets):
            await ws.close(code=code)

    @staticmethod
    async def _send(ws: web.WebSocketResponse, frame: Any) -> None:
        try:
            await ws.send_str(json.dumps(frame))
        except (ConnectionResetError, RuntimeError) as exc:
            log.debug("fake gateway: send failed: %s", exc)


def ready_payload(bot: FakeUser, guild_ids: list[int], session_id: str, resume_url: str) -> JSON:
    return {
        "v": 10,
        "user": bot.payload(),
        "guilds": [{"id": str(g), "unavailable": True} for g in guild_ids],
        "session_id": session_id,
        "session_type": "normal",
        "resume_gateway_url": resume_url,
        "application": {"id": str(APP_ID), "flags": 0},
        **{key: [] for key in ("private_channels", "relationships")},
        "user_settings": {},
        "geo_ordered_rtc_regions": ["local"],
    }
