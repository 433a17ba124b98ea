"""REST routes of the fake Discord: login, command sync, channels/messages, interactions and
interaction webhooks, with the limits and error codes real Discord answers with."""

from __future__ import annotations

import asyncio
import hashlib
import json
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from aiohttp import BodyPartReader, web

from tests.fakes.discord_interactions import FakeInteraction, InteractionRoutes
from tests.fakes.discord_limits import (
    SEND_FLAGS,
    ApiError,
    check_edit_age,
    check_files,
    check_message,
    form_error,
    validate_commands,
)
from tests.fakes.discord_payloads import (
    APP_ID,
    FLAG_EPHEMERAL,
    FLAG_LOADING,
    JSON,
    FakeAttachment,
    FakeChannel,
    FakeUser,
    StoredMessage,
    UploadedFile,
    utcnow,
)
from tests.fakes.discord_refresh import refresh_urls, resign_expired

if TYPE_CHECKING:
    from tests.fakes.discord import FakeDiscord


@dataclass
class RecordedRequest:
    """One REST request as received, plus the answer the fake gave."""

    method: str
    path: str  # without the /api/v10 prefix
    query: dict[str, str]
    headers: dict[str, str]
    json: Any  # JSON body, or the payload_json part of a multipart body
    files: list[UploadedFile]
    at: float = field(default_factory=time.monotonic)
    status: int = 0
    response: Any = None
    edited: int | None = None  # id of the message this request edited
    message_id: int | None = None  # id of the message created, edited or read
    size: int = 0  # the whole request's size in bytes (Content-Length)
    net_fault: str | None = None  # the network fault injected on it (drop, lost, stall)

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300

    @property
    def code(self) -> int | None:
        return self.response.get("code") if isinstance(self.response, dict) else None

    def __str__(self) -> str:
        return f"{self.method} {self.path} -> {self.status} (code {self.code})"


async def read_body(
    request: web.Request, *, keep_bytes: bool = True
) -> tuple[Any, list[UploadedFile]]:
    """JSON body and file parts; ``keep_bytes=False`` streams file parts through a hash."""
    if request.content_type.startswith("multipart/"):
        payload: Any = None
        files: list[UploadedFile] = []
        async for part in await request.multipart():
            if not isinstance(part, BodyPartReader):
                continue
            if part.name == "payload_json":
                payload = json.loads(await part.text())
                continue
            match = re.fullmatch(r"files\[(\d+)\]", part.name or "")
            index = int(match.group(1)) if match else len(files)
            ctype = part.headers.get("Content-Type")
            if not keep_bytes:
                files.append(await _digest_part(part, index, ctype))
                continue
            data = bytes(await part.read(decode=False))
            files.append(UploadedFile(index, part.filename or "", data, ctype))
        return payload, files
    raw = await request.read()
    if not raw:
        return None, []
    try:
        return json.loads(raw), []
    except ValueError:
        return raw.decode(errors="replace"), []


async def _digest_part(part: BodyPartReader, index: int, ctype: str | None) -> UploadedFile:
    """Size and SHA-256 of a file part, read in chunks (benchmarks: no 8 MB copies kept)."""
    digest, length = hashlib.sha256(), 0
    while chunk := await part.read_chunk(1 << 16):
        digest.update(chunk)
        length += len(chunk)
    return UploadedFile(index, part.filename or "", b"", ctype, length, digest.hexdigest())


_A, _T, _C, _M = r"(?P<app>\d+)", r"(?P<token>[^/]+)", r"(?P<cid>\d+)", r"(?P<mid>\d+)"
ROUTES: list[tuple[str, str, str]] = [
    ("GET", r"/users/@me", "get_me"),
    ("GET", r"/oauth2/applications/@me", "get_application"),
    ("GET", r"/gateway(/bot)?", "get_gateway"),
    ("PUT", rf"/applications/{_A}(/guilds/(?P<gid>\d+))?/commands", "put_commands"),
    ("GET", rf"/applications/{_A}(/guilds/(?P<gid>\d+))?/commands", "get_commands"),
    ("POST", r"/users/@me/channels", "create_dm"),
    ("GET", r"/users/(?P<uid>\d+)", "get_user"),
    ("GET", r"/guilds/(?P<gid>\d+)/members/(?P<uid>\d+)", "get_member"),
    ("GET", rf"/channels/{_C}", "get_channel"),
    ("POST", rf"/channels/{_C}/typing", "typing"),
    ("GET", rf"/channels/{_C}/messages", "list_messages"),
    ("POST", rf"/channels/{_C}/messages", "create_message"),
    ("GET", rf"/channels/{_C}/messages/{_M}", "get_message"),
    ("PATCH", rf"/channels/{_C}/messages/{_M}", "edit_message"),
    ("DELETE", rf"/channels/{_C}/messages/{_M}", "delete_message"),
    ("POST", rf"/interactions/(?P<iid>\d+)/{_T}/callback", "callback"),
    ("GET", rf"/webhooks/{_A}/{_T}/messages/(?P<mid>@original|\d+)", "webhook_get"),
    ("PATCH", rf"/webhooks/{_A}/{_T}/messages/(?P<mid>@original|\d+)", "webhook_edit"),
    ("DELETE", rf"/webhooks/{_A}/{_T}/messages/(?P<mid>@original|\d+)", "webhook_delete"),
    ("POST", rf"/webhooks/{_A}/{_T}", "followup"),
    ("POST", r"/attachments/refresh-urls", "refresh_urls"),
]
_COMPILED = [(m, re.compile(p), h) for m, p, h in ROUTES]
Reply = tuple[int, Any]


class RestHandlers:
    def __init__(self, fake: FakeDiscord) -> None:
        self.fake = fake
        self.interactions = InteractionRoutes(self)

    async def dispatch(self, rec: RecordedRequest) -> Reply:
        allowed = False
        for method, pattern, name in _COMPILED:
            match = pattern.fullmatch(rec.path)
            if match is None:
                continue
            allowed = True
            if method != rec.method:
                continue
            bot_route = not rec.path.startswith(("/interactions/", "/webhooks/"))
            if bot_route and rec.headers.get("Authorization") != f"Bot {self.fake.token}":
                raise ApiError(401, 0, "401: Unauthorized")
            args = {k: v for k, v in match.groupdict().items() if v is not None}
            handler = getattr(self, name, None) or getattr(self.interactions, name)
            result: Reply = await handler(rec, **args)
            return result
        if allowed:
            raise ApiError(405, 0, "405: Method Not Allowed")
        raise ApiError(404, 0, "404: Not Found")

    async def refresh_urls(self, rec: RecordedRequest) -> Reply:
        return await refresh_urls(self.fake, rec)  # tests/fakes/discord_refresh.py

    # ---- login, gateway, commands --------------------------------------------------------
    async def get_me(self, rec: RecordedRequest) -> Reply:
        return 200, self.fake.bot.payload()

    async def get_application(self, rec: RecordedRequest) -> Reply:
        return 200, application_payload(self.fake.bot, self.fake.user(self.fake.guild.owner_id))

    async def get_gateway(self, rec: RecordedRequest) -> Reply:
        limit = {"total": 1000, "remaining": 999, "reset_after": 0, "max_concurrency": 1}
        return 200, {"url": self.fake.gateway.url, "shards": 1, "session_start_limit": limit}

    def _scope(self, app: str, gid: str | None) -> int | None:
        if int(app) != APP_ID:
            raise ApiError(404, 10002, "Unknown Application")
        if gid is not None and int(gid) not in self.fake.guilds:
            raise ApiError(404, 10004, "Unknown Guild")
        return int(gid) if gid is not None else None

    async def put_commands(self, rec: RecordedRequest, app: str, gid: str | None = None) -> Reply:
        scope = self._scope(app, gid)
        errors = validate_commands(rec.json)
        if errors:
            raise form_error(errors)
        old = {(c["name"], c["type"]): c["id"] for c in self.fake.commands.get(scope, [])}
        stored: list[JSON] = []
        for cmd in rec.json:
            out = {"type": 1, "description": "", **cmd}
            out["id"] = old.get((out["name"], out["type"])) or str(self.fake.ids.next())
            out.update(application_id=str(APP_ID), version=str(self.fake.ids.next()))
            if scope is not None:
                out["guild_id"] = str(scope)
            stored.append(out)
        self.fake.commands[scope] = stored
        self.fake.sync_count += 1
        return 200, stored

    async def get_commands(self, rec: RecordedRequest, app: str, gid: str | None = None) -> Reply:
        return 200, self.fake.commands.get(self._scope(app, gid), [])

    # ---- users, guilds, channels ---------------------------------------------------------
    async def get_user(self, rec: RecordedRequest, uid: str) -> Reply:
        user = self.fake.users.get(int(uid))
        if user is None:
            raise ApiError(404, 10013, "Unknown User")
        return 200, user.payload()

    async def create_dm(self, rec: RecordedRequest) -> Reply:
        uid = int((rec.json or {}).get("recipient_id", 0))
        if uid not in self.fake.users:
            raise ApiError(400, 50033, "Invalid Recipient(s)")
        return 200, self.fake.dm_channel(uid).payload()

    async def get_member(self, rec: RecordedRequest, gid: str, uid: str) -> Reply:
        guild = self.fake.guilds.get(int(gid))
        if guild is None:
            raise ApiError(404, 10004, "Unknown Guild")
        if int(uid) not in guild.members:
            raise ApiError(404, 10007, "Unknown Member")
        return 200, guild.member_payload(int(uid))

    def channel(self, cid: str | int) -> FakeChannel:
        chan = self.fake.channels.get(int(cid))
        if chan is None:
            raise ApiError(404, 10003, "Unknown Channel")
        return chan

    async def get_channel(self, rec: RecordedRequest, cid: str) -> Reply:
        return 200, self.channel(cid).payload()

    async def typing(self, rec: RecordedRequest, cid: str) -> Reply:
        self.channel(cid)
        return 204, None

    # ---- channel messages (bot token) ----------------------------------------------------
    def _visible(self, cid: str, mid: str) -> StoredMessage:
        self.channel(cid)
        msg = self.fake.messages.get(int(mid))
        if msg is None or msg.deleted or msg.ephemeral or msg.channel_id != int(cid):
            raise ApiError(404, 10008, "Unknown Message")
        return msg

    async def list_messages(self, rec: RecordedRequest, cid: str) -> Reply:
        self.channel(cid)
        live = [m for m in self.fake.channel_messages(int(cid)) if not m.ephemeral]
        if "before" in rec.query:
            live = [m for m in live if m.id < int(rec.query["before"])]
        if "after" in rec.query:
            live = [m for m in live if m.id > int(rec.query["after"])]
        limit = int(rec.query.get("limit", 50))
        newest = sorted(live, key=lambda m: m.id, reverse=True)[:limit]
        return 200, [self.fake.message_payload(m) for m in newest]

    async def create_message(self, rec: RecordedRequest, cid: str) -> Reply:
        chan = self.channel(cid)
        if chan.recipient is not None and chan.recipient.id in self.fake.denied_dms:
            raise ApiError(403, 50007, "Cannot send messages to this user")
        if chan.id in self.fake.denied_channels:
            raise ApiError(403, 50013, "Missing Permissions")
        body = rec.json or {}
        ref = body.get("message_reference") or {}
        msg = self.new_message(rec, chan, body, self.fake.upload_limit_for(chan), 19 if ref else 0)
        if ref.get("message_id"):
            msg.reference_id = int(ref["message_id"])
        await self.announce("MESSAGE_CREATE", msg)
        return 200, self.fake.message_payload(msg)

    async def get_message(self, rec: RecordedRequest, cid: str, mid: str) -> Reply:
        msg = self._visible(cid, mid)
        resign_expired(self.fake, msg.attachments)
        rec.message_id = msg.id
        return 200, self.fake.message_payload(msg)

    async def edit_message(self, rec: RecordedRequest, cid: str, mid: str) -> Reply:
        msg = self._visible(cid, mid)
        if msg.author.id != self.fake.bot.id:
            raise ApiError(403, 50005, "Cannot edit a message authored by another user")
        self.edit(rec, msg, rec.json or {}, self.fake.upload_limit_for(self.channel(cid)))
        await self.announce("MESSAGE_UPDATE", msg)
        return 200, self.fake.message_payload(msg)

    async def delete_message(self, rec: RecordedRequest, cid: str, mid: str) -> Reply:
        msg = self._visible(cid, mid)
        await self.delete(msg)
        return 204, None

    # ---- message store -------------------------------------------------------------------
    def new_message(
        self,
        rec: RecordedRequest,
        chan: FakeChannel,
        body: JSON,
        limit: int,
        mtype: int,
        it: FakeInteraction | None = None,
        flags_mask: int = SEND_FLAGS,
    ) -> StoredMessage:
        check_message(body, creating=True, has_files=bool(rec.files))
        check_files(rec.files, limit, rec.size)
        msg = StoredMessage(self.fake.ids.next(), chan.id, chan.guild_id, self.fake.bot, type=mtype)
        self.apply(msg, body, rec.files)
        msg.flags = int(body.get("flags") or 0) & flags_mask
        if it is not None:
            self.mark_interaction(msg, it)
        self.fake.messages[msg.id] = msg
        rec.message_id = msg.id
        return msg

    def mark_interaction(self, msg: StoredMessage, it: FakeInteraction) -> None:
        msg.webhook_id = APP_ID
        msg.interaction_token = it.token
        msg.interaction_metadata = {
            "id": str(it.id),
            "type": it.type,
            "user": it.user.payload(),
            "authorizing_integration_owners": it.payload.get("authorizing_integration_owners", {}),
        }
        if it.type == 2 and msg.type == 0:
            command_type = (it.payload.get("data") or {}).get("type", 1)
            msg.type = 20 if command_type == 1 else 23

    def apply(self, msg: StoredMessage, body: JSON, files: list[UploadedFile]) -> None:
        for key in ("content", "embeds", "components"):
            if key in body:
                setattr(msg, key, body[key] or ("" if key == "content" else []))
        if "attachments" not in body and not files:
            return
        by_index = {f.index: f for f in files}
        refs = body.get("attachments")
        if refs is None:
            refs = [*({"id": a.id} for a in msg.attachments), *({"id": i} for i in by_index)]
        kept: list[FakeAttachment] = []
        for ref in refs:
            aid = int(ref["id"])
            upload = by_index.pop(aid, None)
            if upload is not None:
                spec = {
                    "filename": ref.get("filename") or upload.filename,
                    "data": upload.data,
                    "size": upload.size,  # differs from len(data) when bytes were not kept
                }
                att = self.fake.make_attachment(msg.channel_id, spec)
                att.description = ref.get("description")
                kept.append(att)
                continue
            existing = next((a for a in msg.attachments if a.id == aid), None)
            if existing is None:
                raise form_error(
                    {"attachments": {"_errors": [{"code": "UNKNOWN", "message": str(aid)}]}}
                )
            kept.append(existing)
        kept += [self.fake.make_attachment(msg.channel_id, f) for f in by_index.values()]
        msg.attachments = kept

    def edit(self, rec: RecordedRequest, msg: StoredMessage, body: JSON, limit: int) -> None:
        check_message(body, creating=False, has_files=bool(rec.files))
        check_files(rec.files, limit, rec.size)
        if not msg.loading:  # the first answer to a defer is not an edit to Discord
            check_edit_age(msg.created_at.timestamp(), self.fake.now())
        self.apply(msg, body, rec.files)
        msg.flags &= ~FLAG_LOADING
        if "flags" in body:
            msg.flags = (msg.flags & FLAG_EPHEMERAL) | (int(body["flags"] or 0) & SEND_FLAGS)
        msg.edited_at = utcnow()
        msg.edit_count += 1
        rec.edited = rec.message_id = msg.id

    async def delete(self, msg: StoredMessage) -> None:
        msg.deleted = True
        if not msg.ephemeral:
            event: JSON = {"id": str(msg.id), "channel_id": str(msg.channel_id)}
            if msg.guild_id:
                event["guild_id"] = str(msg.guild_id)
            await self.fake.gateway.dispatch("MESSAGE_DELETE", event)

    async def announce(self, event: str, msg: StoredMessage) -> None:
        if not msg.ephemeral:
            await self.fake.gateway.dispatch(event, self.fake.message_payload(msg))


def application_payload(bot: FakeUser, owner: FakeUser) -> JSON:
    return {
        "id": str(APP_ID),
        "name": bot.username,
        **dict.fromkeys(["description", "summary"], ""),
        **dict.fromkeys(["bot_public", "bot_require_code_grant"], False),
        **dict.fromkeys(["icon", "team"]),
        "owner": owner.payload(),
        "verify_key": "0" * 64,
        "flags": 0,
        "bot": bot.payload(),
        "interactions_endpoint_url": None,
    }


# ---- holding a request (crash tests) ---------------------------------------------------------
@dataclass
class Hold:
    """One request kept waiting by ``FakeDiscord.hold_next``: received in full, not yet answered.

    ``arrived`` is set when it comes in; ``release(apply=True)`` then processes and answers it as
    usual (as if Discord had done it even though the client may be gone), ``apply=False`` drops
    it unprocessed (as if it never reached Discord).
    """

    method: str
    pattern: re.Pattern[str]
    with_files: bool
    when: Callable[[RecordedRequest], bool] | None = None
    arrived: asyncio.Event = field(default_factory=asyncio.Event)
    released: asyncio.Event = field(default_factory=asyncio.Event)
    apply: bool = True
    request: RecordedRequest | None = None

    def matches(self, rec: RecordedRequest) -> bool:
        if self.method not in ("*", rec.method) or not self.pattern.search(rec.path):
            return False
        if self.with_files and not rec.files:
            return False
        return self.when is None or self.when(rec)

    def release(self, *, apply: bool) -> None:
        self.apply = apply
        self.released.set()
