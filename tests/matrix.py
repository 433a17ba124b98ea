"""Shared pieces of the reliability matrices (``tests/test_matrix_*.py``) and their document.

* what reached Discord: every message body the bot sent, and whether any of them could ping;
* a reference checker whose outbound traffic is recorded, to prove no request went to a
  non-public address;
* a TCP gate that refuses connections until opened (an API that cannot be reached);
* another SQLite connection holding the write lock (another process busy on the database);
* a log capture that keeps raw records and the production formatter's lines;
* markdown tables for ``docs/reliability.md``.
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import ipaddress
import logging
import re
import socket
import sqlite3
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
from yarl import URL

from hh_bot.logs import RedactingFormatter
from hh_bot.references.checker import ReferenceChecker
from hh_bot.references.netpolicy import address_problem, normalise_host
from hh_bot.references.resolvers import AiohttpResolver, StaticResolver
from tests.fakes.discord import FakeDiscord
from tests.fakes.discord_payloads import StoredMessage
from tests.fakes.discord_rest import RecordedRequest

# --- what reached Discord -------------------------------------------------------------------
_MESSAGE_ROUTE = re.compile(
    r"^/(channels/\d+/messages(/\d+)?|webhooks/\d+/[^/]+(/messages/(@original|\d+))?"
    r"|interactions/\d+/[^/]+/callback)$"
)


def message_bodies(fake: FakeDiscord) -> Iterator[tuple[RecordedRequest, dict[str, Any]]]:
    """Every message the bot created or edited, as sent (callbacks: their ``data``)."""
    for rec in fake.requests:
        if rec.method not in ("POST", "PATCH") or not _MESSAGE_ROUTE.match(rec.path):
            continue
        body = rec.json if isinstance(rec.json, dict) else {}
        if rec.path.endswith("/callback"):
            body = body.get("data") or {}
        if "content" in body or "embeds" in body:
            yield rec, body


def ping_problems(fake: FakeDiscord, owner_id: int) -> list[str]:
    """Why any message the bot sent could notify someone other than ``owner_id``.

    Discord parses mentions in ``content`` only (never in embeds); ``allowed_mentions`` decides
    which of them ping. Every message with text must say ``parse: []`` and may list the owner
    alone. Absent ``allowed_mentions`` means "ping everything written".
    """
    problems: list[str] = []
    for rec, body in message_bodies(fake):
        content = str(body.get("content") or "")
        allowed = body.get("allowed_mentions")
        where = f"{rec.method} {rec.path}"
        if allowed is None:
            if content:
                problems.append(f"{where}: content without allowed_mentions: {content[:80]!r}")
            continue
        if allowed.get("parse"):
            problems.append(f"{where}: allowed_mentions parses {allowed['parse']}")
        if allowed.get("roles"):
            problems.append(f"{where}: allowed_mentions lists roles {allowed['roles']}")
        users = {int(u) for u in allowed.get("users") or []}
        if users - {owner_id}:
            problems.append(f"{where}: allowed_mentions lists users {sorted(users)}")
    return problems


def bot_messages(fake: FakeDiscord) -> list[StoredMessage]:
    """Everything the bot posted (through its token or an interaction), deleted ones too."""
    return [m for m in fake.messages.values() if m.author.id == fake.bot.id]


def visible_text(message: StoredMessage) -> str:
    """What a user reads in a message: its content and its embeds' titles and descriptions."""
    parts = [message.content or ""]
    for embed in message.embeds:
        parts += [str(embed.get("title") or ""), str(embed.get("description") or "")]
    return "\n".join(p for p in parts if p)


# --- a reference checker whose traffic is recorded -------------------------------------------
@dataclass
class TrafficLog:
    """What the checker did on the network: names the policy resolved, requests its session
    started (URL), and names its connector resolved in order to connect."""

    lookups: list[str] = field(default_factory=list)
    requests: list[str] = field(default_factory=list)
    connects: list[str] = field(default_factory=list)


class _RecordingResolver:
    def __init__(self, table: Mapping[str, list[str]], into: list[str]) -> None:
        self._inner = StaticResolver(table)
        self._into = into

    async def resolve(self, host: str) -> list[str]:
        self._into.append(normalise_host(host))
        return await self._inner.resolve(host)


def recording_checker(
    ssl_context: Any, policy: Mapping[str, list[str]]
) -> tuple[ReferenceChecker, TrafficLog]:
    """A checker whose policy resolver answers from ``policy`` and whose session connects every
    name there to 127.0.0.1 (trusting ``ssl_context``); all of it recorded in the log.

    Since every name really leads to the local image host, a policy that let a private name or
    address through would show up as a request in the log, not as a connection error."""
    log = TrafficLog()
    trace = aiohttp.TraceConfig()

    async def on_start(_s: object, _c: object, params: aiohttp.TraceRequestStartParams) -> None:
        log.requests.append(str(params.url))

    trace.on_request_start.append(on_start)
    connect_table = {name: ["127.0.0.1"] for name in policy}
    session = aiohttp.ClientSession(
        connector=aiohttp.TCPConnector(
            resolver=AiohttpResolver(_RecordingResolver(connect_table, log.connects)),
            ssl=ssl_context,
        ),
        cookie_jar=aiohttp.DummyCookieJar(),
        trace_configs=[trace],
    )
    checker = ReferenceChecker(
        session, resolver=_RecordingResolver(dict(policy), log.lookups), probe_timeout=2.0
    )
    return checker, log


def _public(address: str) -> bool:
    addr = ipaddress.ip_address(address)
    return addr.is_global and address_problem(addr) is None  # both judges must agree


def is_public_host(host: str, policy: Mapping[str, list[str]]) -> bool:
    """Whether the link policy may ever let the bot connect to ``host``: a public IP literal
    in canonical form, or a name all of whose addresses in ``policy`` are public."""
    host = normalise_host(host)
    try:
        return _public(host)
    except ValueError:
        answers = policy.get(host)
        return bool(answers) and all(_public(a) for a in answers)


def non_public_traffic(
    log: TrafficLog, policy: Mapping[str, list[str]], served: Iterable[str] = ()
) -> list[str]:
    """Every request, connection or request received by the image host (its Host header, in
    ``served``) that concerned a host which is not public. Must be empty."""
    bad = [u for u in log.requests if not is_public_host(URL(u).raw_host or "", policy)]
    bad += [f"connect {h}" for h in log.connects if not is_public_host(h, policy)]
    for host_header in served:
        host = host_header.rsplit(":", 1)[0] if not host_header.endswith("]") else host_header
        if not is_public_host(host, policy):
            bad.append(f"served {host_header}")
    return bad


# --- an API that can't be reached -----------------------------------------------------------
class Gate:
    """A port in front of ``target_port`` that refuses connections until ``open()``.

    The socket is bound but not listening, so a connection attempt is refused at once — the
    request certainly never left (the create's "not sent" case). ``open()`` is synchronous so
    a log handler can call it between two attempts; the kernel queues connections from then
    on and ``serve()`` forwards them."""

    def __init__(self, target_port: int) -> None:
        self.target_port = target_port
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._sock.bind(("127.0.0.1", 0))
        self.port: int = self._sock.getsockname()[1]
        self._server: asyncio.Server | None = None
        self._task: asyncio.Task[None] | None = None
        self.opened = False

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def open(self) -> None:
        if self.opened:
            return
        self.opened = True
        self._sock.listen(16)
        self._task = asyncio.get_running_loop().create_task(self._serve())

    async def _serve(self) -> None:
        self._server = await asyncio.start_server(self._forward, sock=self._sock)

    async def _forward(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self.target_port)

        async def pump(src: asyncio.StreamReader, dst: asyncio.StreamWriter) -> None:
            with contextlib.suppress(ConnectionError):
                while data := await src.read(65536):
                    dst.write(data)
                    await dst.drain()
            with contextlib.suppress(ConnectionError, OSError):
                dst.close()

        await asyncio.gather(pump(reader, up_writer), pump(up_reader, writer))

    async def close(self) -> None:
        if self._task is not None:
            await self._task
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
        self._sock.close()


class OpenOnLog(logging.Handler):
    """Calls ``action`` the first time a record whose message starts with ``prefix`` is logged
    (synchronously, before the logging call returns)."""

    def __init__(self, prefix: str, action: Any) -> None:
        super().__init__(logging.DEBUG)
        self.prefix = prefix
        self.action = action
        self.seen: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        message = record.getMessage()
        if message.startswith(self.prefix):
            self.seen.append(message)
            if len(self.seen) == 1:
                self.action()


# --- another process busy on the database ---------------------------------------------------
class WriteLock:
    """A second SQLite connection that takes the write lock (BEGIN IMMEDIATE) and holds it
    until released, as another process writing to the same file would."""

    def __init__(self, path: str | Path) -> None:
        self._db = sqlite3.connect(str(path), isolation_level=None, check_same_thread=False)
        self.held = False

    async def acquire(self) -> None:
        await asyncio.to_thread(self._db.execute, "BEGIN IMMEDIATE")
        self.held = True

    async def release(self) -> None:
        if self.held:
            await asyncio.to_thread(self._db.execute, "COMMIT")
            self.held = False

    async def close(self) -> None:
        await self.release()
        await asyncio.to_thread(self._db.close)


# --- logs -----------------------------------------------------------------------------------
class LogCapture(logging.Handler):
    """Every record of every logger at DEBUG: raw, and as the production formatter prints it."""

    def __init__(self, secrets: Sequence[str]) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []
        self.stream = io.StringIO()
        self._out = logging.StreamHandler(self.stream)
        self._out.setFormatter(RedactingFormatter(secrets))
        self._raw = logging.Formatter("%(name)s %(levelname)s %(message)s")
        self._saved: list[tuple[logging.Logger, int]] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)
        self._out.handle(record)

    def raw_lines(self) -> list[str]:
        """Each record formatted WITHOUT redaction (message, arguments, traceback, stack)."""
        return [self._raw.format(r) + f" {r.args!r}" for r in self.records]

    def lines(self) -> list[str]:
        return self.stream.getvalue().splitlines()

    @contextlib.contextmanager
    def installed(self, *names: str) -> Iterator[LogCapture]:
        loggers = [logging.getLogger(n) for n in ("", *names)]
        self._saved = [(lg, lg.level) for lg in loggers]
        for lg in loggers:
            lg.setLevel(logging.DEBUG)
        root = logging.getLogger()
        root.addHandler(self)
        try:
            yield self
        finally:
            root.removeHandler(self)
            for lg, level in self._saved:
                lg.setLevel(level)


# --- markdown -------------------------------------------------------------------------------
def cell(text: object) -> str:
    """A table cell: one line, pipes escaped, backticks kept."""
    value = " ".join(str(text).split())
    return value.replace("|", "\\|") or "—"


def table(header: Sequence[str], rows: Iterable[Sequence[object]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(cell(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def shown(text: str, limit: int = 120) -> str:
    """An input as the document shows it: control characters escaped, long text shortened."""
    escaped = text.encode("unicode_escape").decode("ascii") if not text.isprintable() else text
    if len(escaped) > limit:
        escaped = f"{escaped[: limit - 20]}… ({len(text)} characters)"
    return escaped
