"""A local HTTPS image host for reference-link tests, with trustme certificates.

The host names below resolve as ``POLICY_TABLE`` says for the link policy (public, or private for
``PRIVATE_IMAGES``, or both for ``MIXED_IMAGES``) while the session of
``tests.bot_world.offline_checker`` (or ``local_session``) connects them all to 127.0.0.1 and
trusts the test CA, so the real probe code runs with no DNS and no network:

    async with image_host() as host:
        checker = offline_checker(host.client_ssl)
        url = host.url("/ok.png")            # https://images.example.com:<port>/ok.png
"""

from __future__ import annotations

import asyncio
import functools
import ssl
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

import aiohttp
import trustme

from hh_bot.references.resolvers import AiohttpResolver, StaticResolver

PUBLIC_IMAGES = "images.example.com"  # resolves to a public address for the policy
OTHER_IMAGES = "other.example.org"  # another public host
PRIVATE_IMAGES = "private.example.com"  # resolves to 10.1.2.3 for the policy
MIXED_IMAGES = "mixed.example.com"  # one public and one private address
HOSTS = (PUBLIC_IMAGES, OTHER_IMAGES, PRIVATE_IMAGES)  # the names the certificate is for
POLICY_TABLE = {
    PUBLIC_IMAGES: ["93.184.216.34"],
    OTHER_IMAGES: ["198.41.0.4", "2001:503:ba3e::2:30"],
    PRIVATE_IMAGES: ["10.1.2.3"],
    MIXED_IMAGES: ["93.184.216.34", "10.0.0.2"],
}
MiB = 1024 * 1024


@dataclass
class Reply:
    status: int
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""


@dataclass
class Seen:
    method: str
    path: str
    headers: dict[str, str]


Route = Callable[[Seen], Reply | Awaitable[Reply]]


@dataclass(frozen=True)
class TLS:
    server: ssl.SSLContext
    client: ssl.SSLContext


@functools.cache
def tls() -> TLS:
    """One test CA per process, its certificate for every host above, and both contexts."""
    ca = trustme.CA()
    server = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert(*HOSTS).configure_cert(server)
    client = ssl.create_default_context()
    ca.configure_trust(client)
    return TLS(server, client)


class ImageServer:
    """A scriptable HTTPS server on 127.0.0.1 that records every request it answers."""

    def __init__(self) -> None:
        self.connections = 0
        self.requests: list[Seen] = []
        self.routes: dict[str, Route] = {}
        self.port = 0
        self._server: asyncio.Server | None = None

    @property
    def client_ssl(self) -> ssl.SSLContext:
        return tls().client

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._handle, "127.0.0.1", 0, ssl=tls().server)
        self.port = self._server.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()

    def url(self, path: str, host: str = PUBLIC_IMAGES) -> str:
        return f"https://{host}:{self.port}{path}"

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        try:
            head = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1")
        except (asyncio.IncompleteReadError, ConnectionError, ssl.SSLError):
            writer.close()
            return
        line, *rest = head.split("\r\n")
        method, target, _ = line.split(" ", 2)
        headers = {}
        for item in rest:
            if ":" in item:
                name, value = item.split(":", 1)
                headers[name.strip().lower()] = value.strip()
        seen = Seen(method, target.split("?", 1)[0], headers)
        self.requests.append(seen)
        route = self.routes.get(seen.path)
        reply = route(seen) if route else Reply(404)
        if not isinstance(reply, Reply):
            reply = await reply
        out = dict(reply.headers)
        if "Transfer-Encoding" not in out:
            out.setdefault("Content-Length", str(len(reply.body)))
        out["Connection"] = "close"
        lines = [f"HTTP/1.1 {reply.status} X"] + [f"{k}: {v}" for k, v in out.items()]
        writer.write(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1"))
        if method != "HEAD":
            writer.write(reply.body)
        try:
            await writer.drain()
            writer.close()
            await writer.wait_closed()
        except (ConnectionError, ssl.SSLError):
            pass


def local_session(
    names: Iterable[str] = POLICY_TABLE, ssl_context: ssl.SSLContext | None = None
) -> aiohttp.ClientSession:
    """A session that connects every one of ``names`` to 127.0.0.1, trusts the test CA (or
    ``ssl_context``) and keeps no cookies (as ``ReferenceChecker`` requires of an injected
    session)."""
    connect = {name: ["127.0.0.1"] for name in names}
    connector = aiohttp.TCPConnector(
        ssl=ssl_context or tls().client, resolver=AiohttpResolver(StaticResolver(connect))
    )
    return aiohttp.ClientSession(connector=connector, cookie_jar=aiohttp.DummyCookieJar())


def image(ctype: str = "image/png", size: int = 5000) -> Route:
    """An image: HEAD gives type and length; a ranged GET gives 206 with Content-Range."""

    def route(seen: Seen) -> Reply:
        if seen.method == "GET" and "range" in seen.headers:
            headers = {"Content-Type": ctype, "Content-Range": f"bytes 0-1023/{size}"}
            return Reply(206, headers, b"\0" * 1024)
        return Reply(200, {"Content-Type": ctype, "Content-Length": str(size)})

    return route


def fixed(status: int, **headers: str) -> Route:
    """Always the same answer; ``Content_Type="x"`` becomes the header ``Content-Type: x``."""
    return lambda seen: Reply(status, {k.replace("_", "-"): v for k, v in headers.items()})


@asynccontextmanager
async def image_host() -> AsyncIterator[ImageServer]:
    """A started server with a few good images and the usual bad answers."""
    server = ImageServer()
    await server.start()

    def on(host: str, path: str) -> str:
        return server.url(path, host)

    server.routes.update(
        {
            "/ok.png": image(),
            "/ok.jpg": image("image/jpeg", 300_000),
            "/ok.webp": image("image/webp", 2 * MiB),
            "/page.html": fixed(200, Content_Type="text/html; charset=utf-8"),
            "/big.png": fixed(200, Content_Type="image/png", Content_Length=str(20 * MiB)),
            "/missing.png": fixed(404),
            "/to-private": fixed(302, Location=on(PRIVATE_IMAGES, "/ok.png")),
            "/to-other": fixed(302, Location=on(OTHER_IMAGES, "/ok.jpg")),
        }
    )
    try:
        yield server
    finally:
        await server.stop()
