"""Result downloads under the public-address rules: what is refused is never connected to.

Each refusal is checked on the network, not only by its outcome: a listening socket that must
see no connection, and a trace of every connection the download session starts.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest
import yarl

from hh_bot.api.client import HappyHorseClient
from hh_bot.api.result_link import LinkResolver, LinkRules, base_url_problem, is_loopback_host
from hh_bot.clock import ScaledClock
from hh_bot.config import ConfigError, load_settings
from hh_bot.errors import DownloadError, UnsafeLink
from hh_bot.i18n import render
from hh_bot.references.resolvers import StaticResolver
from tests.fakes.happyhorse import FakeHappyHorse, TaskScript

KEY = "sk-SECRET-0123456789abcdef"


class Listener:
    """A TCP port on 127.0.0.1 that counts the connections it accepts."""

    def __init__(self) -> None:
        self.connects = 0
        self._server: asyncio.Server | None = None
        self.port = 0

    async def __aenter__(self) -> Listener:
        async def accept(_r: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            self.connects += 1
            writer.close()

        self._server = await asyncio.start_server(accept, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def __aexit__(self, *_: object) -> None:
        assert self._server is not None
        self._server.close()
        await self._server.wait_closed()


class Flipping:
    """A resolver that answers a public address first, then loopback (DNS rebinding)."""

    def __init__(self) -> None:
        self.calls = 0

    async def resolve(self, host: str) -> list[str]:
        self.calls += 1
        return ["93.184.216.34"] if self.calls == 1 else ["127.0.0.1"]


@contextlib.asynccontextmanager
async def guarded_client(rules: LinkRules) -> AsyncIterator[tuple[HappyHorseClient, list[str]]]:
    """A client for a production (https) gateway that is never contacted, whose downloads go
    through a session with the production resolver; every connection it starts is listed."""
    started: list[str] = []
    trace = aiohttp.TraceConfig()

    async def on_connect(_s: object, _c: object, _p: object) -> None:
        started.append("connect")

    async def on_request(_s: object, _c: object, p: aiohttp.TraceRequestStartParams) -> None:
        started.append(str(p.url))

    trace.on_connection_create_start.append(on_connect)
    trace.on_request_start.append(on_request)
    async with (
        aiohttp.ClientSession() as api_session,
        aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(resolver=LinkResolver(rules)),
            trace_configs=[trace],
        ) as downloads,
    ):
        client = HappyHorseClient(
            api_session,
            base_url="https://api.apiyi.example",
            api_key=KEY,
            download_session=downloads,
            link_rules=rules,
            download_timeout=2.0,
        )
        yield client, started


@pytest.mark.parametrize(
    "url",
    [
        "https://169.254.169.254:{port}/latest/meta-data/",  # cloud metadata literal
        "https://10.0.0.5:{port}/v.mp4",  # private literal
        "https://127.0.0.1:{port}/v.mp4",  # loopback literal, production rules
        "https://[::ffff:127.0.0.1]:{port}/v.mp4",
        "https://metadata.google.internal:{port}/v.mp4",
        "https://meta.example:{port}/v.mp4",  # a name resolving to the metadata address
        "https://ten.example:{port}/v.mp4",  # a name resolving to 10.x
        "https://cdn.example:{port}/v.mp4",  # a name resolving to loopback
        "http://93.184.216.34:{port}/v.mp4",  # public, but not https
        "https://user:pw@93.184.216.34:{port}/v.mp4",
    ],
)
async def test_a_refused_result_link_is_never_connected_to(url: str, tmp_path: Path) -> None:
    table = {
        "meta.example": ["169.254.169.254"],
        "ten.example": ["10.1.2.3"],
        "cdn.example": ["127.0.0.1"],
    }
    rules = LinkRules(local=False, resolver=StaticResolver(table))
    async with Listener() as listener, guarded_client(rules) as (client, started):
        with pytest.raises(UnsafeLink):
            await client.download(url.format(port=listener.port), tmp_path / "v.mp4", max_bytes=99)
        await asyncio.sleep(0)  # let an accept that raced in be counted
        assert listener.connects == 0 and started == []
    assert list(tmp_path.iterdir()) == []  # noqa: ASYNC240 - a tiny local directory


async def test_a_name_that_rebinds_to_loopback_is_refused_at_connect(tmp_path: Path) -> None:
    """The check before the request sees a public address; the connector resolves again and
    sees loopback: refused there, before any connection."""
    flipping = Flipping()
    rules = LinkRules(local=False, resolver=flipping)
    async with Listener() as listener, guarded_client(rules) as (client, _):
        url = f"https://rebind.example:{listener.port}/v.mp4"
        with pytest.raises(UnsafeLink):
            await client.download(url, tmp_path / "v.mp4", max_bytes=99)
        await asyncio.sleep(0)
        assert listener.connects == 0 and flipping.calls == 2


@contextlib.asynccontextmanager
async def local_env() -> AsyncIterator[tuple[FakeHappyHorse, HappyHorseClient]]:
    clock = ScaledClock(factor=1000.0)
    fake = FakeHappyHorse(api_key=KEY, clock=clock, default_script=TaskScript(duration=10))
    await fake.start()
    try:
        async with aiohttp.ClientSession() as session:
            client = HappyHorseClient(session, base_url=fake.base_url, api_key=KEY, clock=clock)
            yield fake, client
    finally:
        await fake.close()


async def _finished(fake: FakeHappyHorse, client: HappyHorseClient) -> str:
    from tests.test_api_client import REQ

    task_id = await client.create(REQ)
    fake.clock.advance(60)  # type: ignore[attr-defined]
    status = await client.poll(task_id)
    assert status.video_url is not None
    return status.video_url


async def test_local_gateway_allows_loopback_links_and_nothing_more(tmp_path: Path) -> None:
    """With APIYI_BASE_URL on 127.0.0.1 the fake's http://127.0.0.1 links are fetched; a link
    to the metadata address is still refused, and a redirect is never followed."""
    async with local_env() as (fake, client):
        url = await _finished(fake, client)
        assert yarl.URL(url).scheme == "http"
        assert await client.download(url, tmp_path / "a.mp4", max_bytes=1 << 20) > 0
        for bad in ("http://169.254.169.254/latest/meta-data/", "http://10.0.0.1/v.mp4"):
            with pytest.raises(UnsafeLink):
                await client.download(bad, tmp_path / "b.mp4", max_bytes=1 << 20)
        fake.download_faults.append("redirect")
        with pytest.raises(UnsafeLink):
            await client.download(url, tmp_path / "c.mp4", max_bytes=1 << 20)
        assert len(fake.downloads()) == 2  # the redirect was not followed
        fake.download_faults.append("html")
        with pytest.raises(DownloadError) as info:
            await client.download(url, tmp_path / "d.mp4", max_bytes=1 << 20)
        assert info.value.status == 200 and "text/html" in str(info.value)
        assert [p.name for p in tmp_path.iterdir()] == ["a.mp4"]  # noqa: ASYNC240


@pytest.mark.parametrize(
    ("base", "ok"),
    [
        ("https://api.apiyi.com", True),
        ("http://127.0.0.1:8080", True),
        ("http://localhost:8080", True),
        ("http://[::1]:8080", True),
        ("http://api.apiyi.com", False),
        ("http://10.0.0.2:8080", False),
        ("http://127.0.0.1.nip.io", False),
        ("ftp://127.0.0.1", False),
    ],
)
def test_base_url_must_be_https_unless_loopback(base: str, ok: bool) -> None:
    assert (base_url_problem(base) is None) is ok
    env = {"DISCORD_TOKEN": "t", "APIYI_API_KEY": "k", "APIYI_BASE_URL": base}
    if ok:
        assert load_settings(env).apiyi_base_url == base
    else:
        with pytest.raises(ConfigError) as info:
            load_settings(env)
        assert str(info.value).startswith("APIYI_BASE_URL")


def test_local_means_loopback_only() -> None:
    assert LinkRules.for_base("http://127.0.0.1:9").local
    assert LinkRules.for_base("http://localhost:9").local
    assert not LinkRules.for_base("https://api.apiyi.com").local
    assert not LinkRules.for_base("https://10.0.0.1").local
    assert not is_loopback_host("localhost.example.com")


@pytest.mark.parametrize(
    ("url", "codes", "english"),
    [
        (
            "https://169.254.169.254/v.mp4",
            ("download.link_refused", "reference.host.address", "reference.address.metadata"),
            "the video link was refused: the address is a cloud metadata address",
        ),
        (
            "https://ten.example/v.mp4",
            ("download.host_resolves_to", "reference.address.private"),
            "the video host ten.example resolves to an address that points to a private network",
        ),
        (
            "https://gone.example/v.mp4",
            ("download.host_not_found",),
            "the video host gone.example could not be found",
        ),
    ],
)
async def test_refusals_are_reasons_with_an_english_log_text(
    url: str, codes: tuple[str, ...], english: str
) -> None:
    rules = LinkRules(local=False, resolver=StaticResolver({"ten.example": ["10.1.2.3"]}))
    with pytest.raises(UnsafeLink) as info:
        await rules.check(yarl.URL(url))
    assert info.value.problem is not None and info.value.problem.codes() == codes
    assert str(info.value) == render(info.value.problem) == english
