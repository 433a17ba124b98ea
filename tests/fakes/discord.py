"""A fake Discord (REST + gateway) on 127.0.0.1 that unmodified discord.py talks to.

    async with FakeDiscord() as fake, running_bot(fake, bot):
        handle = await fake.invoke_slash("video", {"prompt": "a cat"})
        msg = await fake.wait_for(lambda: fake.original_message(handle.token))

State (users, guilds, channels, messages, synced commands, interactions, recorded requests)
lives here. Elsewhere: `discord_payloads` (world model, JSON shapes), `discord_rest` (REST
routes, message store), `discord_interactions` (callback and webhook routes), `discord_limits`
(validation, error bodies, injected faults), `discord_network` (connections dropped, answers
lost, stalls, by route kind), `discord_gateway` (websocket), `discord_commands`
(interaction data from the synced commands), `discord_actions` (user actions),
`discord_harness` (patched_discord, running_bot, ErrorRecorder).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
import secrets
import time
from collections.abc import Callable
from typing import Any, TypeVar

from aiohttp import web

from tests.fakes import discord_actions as actions, discord_network as network
from tests.fakes.discord_gateway import FakeGateway
from tests.fakes.discord_interactions import FakeInteraction, ModalRecord
from tests.fakes.discord_limits import ApiError, Fault
from tests.fakes.discord_network import NetFault
from tests.fakes.discord_payloads import (
    ADMIN_ID,
    ADMIN_ROLE_ID,
    ALICE_ID,
    BOB_ID,
    BOT_PERMISSIONS,
    BOT_ROLE_ID,
    BOT_USER_ID,
    CAROL_ID,
    DEFAULT_UPLOAD_LIMIT,
    EVERYONE_PERMISSIONS,
    GUILD_ID,
    JSON,
    MANAGE_GUILD,
    MIB,
    OWNER_ID,
    TEXT_CHANNEL_ID,
    FakeAttachment,
    FakeChannel,
    FakeGuild,
    FakeMember,
    FakeRole,
    FakeUser,
    Snowflakes,
    StoredMessage,
    UploadedFile,
)
from tests.fakes.discord_rest import Hold, RecordedRequest, RestHandlers, read_body

T = TypeVar("T")
UserRef = FakeUser | int | str


class FakeDiscord:
    """State and control surface of the fake; see the module docstring."""

    def __init__(
        self,
        *,
        premium_tier: int = 0,
        token: str = "test-token",
        ack_deadline: float = 3.0,
        token_lifetime: float = 15 * 60,
    ) -> None:
        self.token = token
        self.ack_deadline = ack_deadline
        self.token_lifetime = token_lifetime
        self.ids = Snowflakes()
        self.url = ""
        self.bot = FakeUser(BOT_USER_ID, "hh-bot", bot=True)
        self.users: dict[int, FakeUser] = {self.bot.id: self.bot}
        self.guilds: dict[int, FakeGuild] = {}
        self.channels: dict[int, FakeChannel] = {}
        self.messages: dict[int, StoredMessage] = {}
        self.cdn: dict[int, FakeAttachment] = {}
        self.commands: dict[int | None, list[JSON]] = {}
        self.sync_count = 0
        self.interactions: dict[int, FakeInteraction] = {}
        self.by_token: dict[str, FakeInteraction] = {}
        self.modals: list[ModalRecord] = []
        self.requests: list[RecordedRequest] = []
        self.rate_limited_count = 0
        self.faults: list[Fault] = []
        self.net_faults: list[NetFault] = []
        self.now: Callable[[], float] = time.time  # the clock messages age by (30046)
        self.closing = asyncio.Event()  # set when the fake closes: stalled requests give up
        self.keep_upload_bytes = True  # performance knob: False keeps only size + SHA-256
        self.listen_backlog = 128  # performance knob: listen backlog (aiohttp's default)
        self.holds: list[Hold] = []
        self.denied_channels: set[int] = set()
        self.denied_dms: set[int] = set()
        self.expired_tokens: set[str] = set()
        self.gateway = FakeGateway(self)
        self.rest = RestHandlers(self)
        self._cond = asyncio.Condition()
        self.internal_errors: list[Exception] = []
        self._abort_checks: list[Callable[[], str | None]] = [self._internal_problem]
        self._tasks: set[asyncio.Task[None]] = set()
        self._runner: web.AppRunner | None = None
        for uid, name in [
            (ALICE_ID, "alice"),
            (BOB_ID, "bob"),
            (CAROL_ID, "carol"),
            (ADMIN_ID, "admin"),
            (OWNER_ID, "owner"),
        ]:
            self.users[uid] = FakeUser(uid, name)
        guild = self.add_guild(
            "HH Test Guild", guild_id=GUILD_ID, premium_tier=premium_tier, owner_id=OWNER_ID
        )
        guild.roles.append(FakeRole(ADMIN_ROLE_ID, "Admin", MANAGE_GUILD, position=1))
        self.add_text_channel(guild.id, "general", channel_id=TEXT_CHANNEL_ID)
        for uid in (ALICE_ID, BOB_ID, CAROL_ID, OWNER_ID):
            guild.members[uid] = FakeMember(self.users[uid])
        guild.members[ADMIN_ID] = FakeMember(self.users[ADMIN_ID], [ADMIN_ROLE_ID])

    # ---- world -------------------------------------------------------------------------
    @property
    def guild(self) -> FakeGuild:
        return self.guilds[GUILD_ID]

    @property
    def channel(self) -> FakeChannel:
        return self.channels[TEXT_CHANNEL_ID]

    def user(self, ref: UserRef) -> FakeUser:
        if isinstance(ref, FakeUser):
            return ref
        if isinstance(ref, str):
            for u in self.users.values():
                if u.username == ref:
                    return u
            raise KeyError(f"no user named {ref!r}")
        return self.users[int(ref)]

    def add_user(self, username: str) -> FakeUser:
        user = FakeUser(self.ids.next(), username)
        self.users[user.id] = user
        return user

    def add_guild(
        self,
        name: str,
        *,
        guild_id: int | None = None,
        premium_tier: int = 0,
        owner_id: int = OWNER_ID,
    ) -> FakeGuild:
        """A guild with @everyone, the bot's role and the bot as member (before connecting)."""
        gid = guild_id or self.ids.next()
        guild = FakeGuild(gid, name, owner_id, premium_tier=premium_tier)
        guild.roles += [
            FakeRole(gid, "@everyone", EVERYONE_PERMISSIONS),
            FakeRole(
                BOT_ROLE_ID if gid == GUILD_ID else self.ids.next(),
                "hh-bot",
                BOT_PERMISSIONS,
                position=2,
                managed=True,
            ),
        ]
        guild.members[self.bot.id] = FakeMember(self.bot, [guild.roles[1].id])
        self.guilds[gid] = guild
        return guild

    def add_text_channel(
        self, guild_id: int, name: str, *, channel_id: int | None = None
    ) -> FakeChannel:
        guild = self.guilds[guild_id]
        chan = FakeChannel(
            channel_id or self.ids.next(), name, 0, guild_id, position=len(guild.channels)
        )
        guild.channels.append(chan)
        self.channels[chan.id] = chan
        return chan

    def add_thread(self, parent_id: int, name: str) -> FakeChannel:
        """A public thread of the text channel ``parent_id``: a channel of its own id (messages
        go there) that is not in the guild's channel list, like an uncached active thread."""
        parent = self.channels[parent_id]
        chan = FakeChannel(self.ids.next(), name, 11, parent.guild_id, parent_id=parent.id)
        self.channels[chan.id] = chan
        return chan

    def dm_channel(self, user: UserRef) -> FakeChannel:
        u = self.user(user)
        for chan in self.channels.values():
            if chan.is_dm and chan.recipient is not None and chan.recipient.id == u.id:
                return chan
        chan = FakeChannel(self.ids.next(), "", 1, None, recipient=u)
        self.channels[chan.id] = chan
        return chan

    def upload_limit_for(self, channel: FakeChannel) -> int:
        return (
            self.guilds[channel.guild_id].upload_limit if channel.guild_id else DEFAULT_UPLOAD_LIMIT
        )

    def make_attachment(self, channel_id: int, spec: Any) -> FakeAttachment:
        """A user-side attachment from a dict (filename, data, content_type, size, width, height,
        description, url), raw bytes, or a FakeAttachment; its bytes are served at `url`."""
        if isinstance(spec, FakeAttachment):
            att = spec
            att.id = att.id or self.ids.next()
        elif isinstance(spec, bytes | UploadedFile):
            data = spec if isinstance(spec, bytes) else spec.data
            name = "file.bin" if isinstance(spec, bytes) else spec.filename
            size = len(data) if isinstance(spec, bytes) else spec.size  # bytes may not be kept
            att = FakeAttachment(self.ids.next(), name, data, size=size)
        else:
            fields = {k: v for k, v in spec.items() if k != "url"}
            att = FakeAttachment(self.ids.next(), **fields)
            att.url = spec.get("url", "")
        if not att.url:
            sig = secrets.token_hex(8)
            att.url = (
                f"{self.url}/attachments/{channel_id}/{att.id}/{att.filename}"
                f"?ex={int(time.time()) + 86400:x}&is={int(time.time()):x}&hm={sig}&"
            )
        self.cdn[att.id] = att
        return att

    # ---- lifecycle ---------------------------------------------------------------------
    async def start(self, port: int = 0) -> FakeDiscord:
        """Listen on 127.0.0.1:``port`` (any free port by default)."""
        app = web.Application(client_max_size=512 * MIB)
        app.router.add_get("/gateway", self.gateway.handle)
        app.router.add_get("/attachments/{cid}/{aid}/{name}", self._cdn)
        app.router.add_get("/media/attachments/{cid}/{aid}/{name}", self._cdn)
        app.router.add_route("*", "/api/v10/{tail:.*}", self._api)
        self._runner = web.AppRunner(app, handle_signals=False, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", port, backlog=self.listen_backlog)
        await site.start()
        host, port = self._runner.addresses[0][:2]
        self.url = f"http://{host}:{port}"
        return self

    async def close(self) -> None:
        self.closing.set()
        for hold in self.holds:  # a forgotten hold must not stall the server's shutdown
            if not hold.released.is_set():
                hold.release(apply=False)
        await self.gateway.close_all()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> FakeDiscord:
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def _cdn(self, request: web.Request) -> web.Response:
        att = self.cdn.get(int(request.match_info["aid"]))
        if att is None or att.filename != request.match_info["name"]:
            return web.Response(status=404, text="Not Found")
        return web.Response(
            body=att.data, content_type=att.content_type or "application/octet-stream"
        )

    async def _api(self, request: web.Request) -> web.Response:
        body, files = await read_body(request, keep_bytes=self.keep_upload_bytes)
        rec = RecordedRequest(
            method=request.method,
            path="/" + request.match_info["tail"],
            query=dict(request.query),
            headers=dict(request.headers),
            json=body,
            files=files,
        )
        rec.size = request.content_length or 0
        self.requests.append(rec)
        if not await self._held(rec):
            rec.status = 503  # dropped by a hold: never processed
            return web.Response(status=503)
        net = network.take_fault(self, rec)
        if net is not None and net.mode != "lost":
            return await network.fail_connection(self, request, net.mode)
        headers: dict[str, str] = {}
        fault = next((f for f in self.faults if f.matches(rec.method, rec.path)), None)
        if fault is not None:
            status, payload, headers = fault.reply()
            if fault.times <= 0:
                self.faults.remove(fault)
            self.rate_limited_count += status == 429
        else:
            try:
                status, payload = await self.rest.dispatch(rec)
            except ApiError as err:
                status, payload = err.status, err.body()
            except Exception as exc:  # a bug in the fake: fail the test, never a 5xx retry loop
                self.internal_errors.append(exc)
                status, payload = 400, {"code": -1, "message": f"FakeDiscord bug: {exc!r}"}
        rec.status, rec.response = status, payload
        if net is not None:  # handled, and the answer is lost on the way
            return await network.fail_connection(self, request, net.mode)
        await self.notify()
        if payload is None:
            return web.Response(status=status, headers=headers)
        headers["Content-Type"] = "application/json"  # exactly: discord.py checks equality
        return web.Response(status=status, body=json.dumps(payload).encode(), headers=headers)

    # ---- fault injection ---------------------------------------------------------------
    def fail_next(
        self,
        method: str,
        path_regex: str,
        status: int,
        code: int = 0,
        message: str = "Injected failure",
        times: int = 1,
        *,
        retry_after: float = 0.05,
    ) -> None:
        """Answer the next `times` requests matching (method or "*", regex searched in the path
        without /api/v10) with `status`/`code`. A 429 carries Via, retry_after and X-RateLimit-*."""
        if status == 429 and message == "Injected failure":
            message = "You are being rate limited."
        self.faults.append(
            Fault(method.upper(), re.compile(path_regex), status, code, message, times, retry_after)
        )

    # ---- network faults: functions of discord_network.py bound as methods ----------------
    net_fault = network.net_fault

    # ---- holding a request (crash tests; see discord_rest.Hold) --------------------------
    def hold_next(
        self,
        method: str,
        path_regex: str,
        *,
        with_files: bool = False,
        when: Callable[[RecordedRequest], bool] | None = None,
    ) -> Hold:
        """Keep the next matching request (with file parts, if `with_files`; for which `when`
        holds, if given) unanswered until the returned hold is released; wait on
        `hold.arrived` to act while it is in flight."""
        hold = Hold(method.upper(), re.compile(path_regex), with_files, when)
        self.holds.append(hold)
        return hold

    async def _held(self, rec: RecordedRequest) -> bool:
        """Wait out a hold matching `rec`; False when the hold dropped it."""
        hold = next((h for h in self.holds if h.request is None and h.matches(rec)), None)
        if hold is None:
            return True
        hold.request = rec
        hold.arrived.set()
        await self.notify()
        await hold.released.wait()
        return hold.apply

    def rate_limit_next(
        self, method: str, path_regex: str, times: int = 1, retry_after: float = 0.05
    ) -> None:
        self.fail_next(method, path_regex, 429, 0, times=times, retry_after=retry_after)

    def expire_token(self, token: str) -> None:
        """Every webhook/callback route for `token` answers 401 {code: 50027}."""
        self.expired_tokens.add(token)

    def deny_channel_send(self, channel_id: int) -> None:
        """Bot-token sends to the channel answer 403 {code: 50013}."""
        self.denied_channels.add(channel_id)

    def deny_dm(self, user: UserRef) -> None:
        """Bot-token sends to the user's DM channel answer 403 {code: 50007}."""
        self.denied_dms.add(self.user(user).id)

    async def reconnect_gateway(self) -> None:
        """Ask the bot to reconnect (op 7); it RESUMEs at resume_gateway_url."""
        await self.gateway.request_reconnect()

    # ---- user actions: functions of discord_actions.py bound as methods --------------------
    slash_payload = actions.slash_payload
    invoke_slash = actions.invoke_slash
    invoke_message_command = actions.invoke_message_command
    invoke_user_command = actions.invoke_user_command
    click_button = actions.click_button
    choose = actions.choose
    submit_modal = actions.submit_modal
    invoke_raw = actions.invoke_raw
    post_user_message = actions.post_user_message
    user_delete_message = actions.user_delete_message

    def message_payload(self, msg: StoredMessage) -> JSON:
        """The message as Discord returns it (with `member` for guild members' messages)."""
        guild = self.guilds.get(msg.guild_id) if msg.guild_id else None
        member = None
        if guild is not None and msg.author.id in guild.members and msg.webhook_id is None:
            member = guild.member_payload(msg.author.id, with_user=False)
        return msg.payload(member)

    def record_modal(self, interaction: FakeInteraction, data: JSON) -> None:
        self.modals.append(ModalRecord(interaction, data))

    # ---- recorded views ----------------------------------------------------------------
    def requests_matching(self, method: str = "*", path_regex: str = "") -> list[RecordedRequest]:
        pat = re.compile(path_regex)
        return [r for r in self.requests if method in ("*", r.method) and pat.search(r.path)]

    def synced_commands(self, guild_id: int | None = None) -> list[JSON]:
        return self.commands.get(guild_id, [])

    def interaction(self, token: str) -> FakeInteraction:
        return self.by_token[token]

    def interaction_responses(self, token: str) -> list[RecordedRequest]:
        """Successful callback and @original requests for `token`, in arrival order (`.at`)."""
        pat = re.compile(
            rf"^/(interactions/\d+/{re.escape(token)}/callback|"
            rf"webhooks/\d+/{re.escape(token)}/messages/@original)$"
        )
        return [r for r in self.requests if r.ok and pat.match(r.path)]

    def original_message(self, token: str) -> StoredMessage | None:
        it = self.by_token.get(token)
        if it is None or it.original_message_id is None:
            return None
        return self.messages[it.original_message_id]

    async def wait_for_original(
        self,
        token: str,
        until: Callable[[StoredMessage], bool] | None = None,
        timeout: float = 5.0,
    ) -> StoredMessage:
        """The interaction's original response message, once it exists (and `until` holds)."""

        def ready() -> StoredMessage | None:
            msg = self.original_message(token)
            return msg if msg is not None and (until is None or until(msg)) else None

        found = await self.wait_for(ready, timeout)
        assert found is not None
        return found

    def followups(self, token: str) -> list[StoredMessage]:
        return [self.messages[i] for i in self.by_token[token].followup_ids]

    def channel_messages(self, channel_id: int = TEXT_CHANNEL_ID) -> list[StoredMessage]:
        """Live (not deleted) messages of the channel, oldest first, ephemeral ones included."""
        return [m for m in self.messages.values() if m.channel_id == channel_id and not m.deleted]

    def dm_messages(self, user: UserRef) -> list[StoredMessage]:
        return self.channel_messages(self.dm_channel(user).id)

    def edits_of(self, message_id: int) -> list[RecordedRequest]:
        """Successful requests that edited the message (channel PATCH, webhook PATCH, type 7)."""
        return [r for r in self.requests if r.ok and r.edited == message_id]

    # ---- waiting -----------------------------------------------------------------------
    async def notify(self) -> None:
        async with self._cond:
            self._cond.notify_all()

    def notify_soon(self) -> None:
        """Wake `wait_for` from synchronous code running on the loop."""
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:  # another thread: wait_for's poll picks the change up
            return
        task = loop.create_task(self.notify())
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def _internal_problem(self) -> str | None:
        return f"FakeDiscord raised: {self.internal_errors!r}" if self.internal_errors else None

    def add_abort_check(self, check: Callable[[], str | None]) -> None:
        """`wait_for` fails at once when `check()` returns a message (e.g. a bot error)."""
        self._abort_checks.append(check)

    def remove_abort_check(self, check: Callable[[], str | None]) -> None:
        self._abort_checks.remove(check)

    async def wait_for(
        self, predicate: Callable[[], T], timeout: float = 20.0, *, poll: float = 0.05
    ) -> T:
        """Return predicate()'s first truthy value, re-checked on every request, gateway event
        or notify(), and every `poll` seconds (for predicates on bot-side state)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        async with self._cond:
            while True:
                for check in self._abort_checks:
                    problem = check()
                    if problem:
                        raise AssertionError(problem)
                result = predicate()
                if result:
                    return result
                remaining = deadline - loop.time()
                if remaining <= 0:
                    tail = "\n".join(f"  {r}" for r in self.requests[-8:])
                    raise AssertionError(f"timed out after {timeout}s; last requests:\n{tail}")
                with contextlib.suppress(TimeoutError):  # poll too: bot-side predicates
                    await asyncio.wait_for(self._cond.wait(), min(remaining, poll))
