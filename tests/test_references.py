"""Reference-image validation against a local HTTPS server (``tests.fakes.images``).

The image host's names are "public" (or private) to the checker's policy resolver (a
StaticResolver over ``POLICY_TABLE``), while the test session's connector maps the same names to
127.0.0.1 and trusts the trustme CA. No real DNS is used.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import cast

import aiohttp
import pytest

from cogs.ui.strings import error_message
from hh_bot.errors import BadInput, BadReference
from hh_bot.i18n import render
from hh_bot.references.checker import AttachmentMeta, Reference, ReferenceChecker, parse_url_list
from hh_bot.references.resolvers import StaticResolver
from tests.fakes.images import (
    MIXED_IMAGES,
    OTHER_IMAGES,
    POLICY_TABLE,
    PUBLIC_IMAGES,
    ImageServer,
    MiB,
    Reply,
    Seen,
    fixed,
    image,
    image_host,
    local_session,
)


@pytest.fixture
async def server() -> AsyncIterator[ImageServer]:
    """``image_host``'s routes and more bad answers and redirects."""
    async with image_host() as srv:

        def base(host: str) -> str:
            return srv.url("", host)

        srv.routes.update(
            {
                "/typed.webp": image("image/webp; charset=binary", 2 * MiB),
                "/nohead.png": lambda s: Reply(405) if s.method == "HEAD" else image()(s),
                "/empty.png": fixed(200, Content_Type="image/png"),
                "/notype.png": fixed(200),
                "/to-mixed": fixed(302, Location=base(MIXED_IMAGES) + "/ok.png"),
                "/to-http": fixed(302, Location=f"http://{OTHER_IMAGES}/x.png?Signature=S3CRET"),
                "/to-loopback": fixed(301, Location="https://127.0.0.1:1/x.png"),
                "/to-userinfo": fixed(302, Location=f"https://u:hunter2@{OTHER_IMAGES}/x.png"),
                "/to-nowhere": fixed(302),
                "/relative": fixed(307, Location="/ok.jpg"),
                "/cookie": fixed(302, Location="/ok.png", Set_Cookie="session=abc; Path=/"),
                "/loop": fixed(302, Location="/loop"),
            }
        )
        yield srv


@pytest.fixture
async def checker() -> AsyncIterator[ReferenceChecker]:
    session = local_session()
    checker = ReferenceChecker(session, resolver=StaticResolver(POLICY_TABLE), probe_timeout=2.0)
    yield checker
    await checker.close()
    await session.close()


CDN = "https://cdn.discordapp.com/attachments/1/2/a.png?ex=1&is=2&hm=abc"


def meta(**changes: object) -> AttachmentMeta:
    values: dict[str, object] = {
        "filename": "a.png",
        "url": CDN,
        "content_type": "image/png",
        "size": 500_000,
        "width": 1024,
        "height": 768,
    }
    values.update(changes)
    return AttachmentMeta(**values)  # type: ignore[arg-type]


# --- the table of bad inputs --------------------------------------------------------------
@dataclass(frozen=True)
class Bad:
    kind: str  # "url" (check_url as "link 1"), "attachment" (as "image3"), "all" (check_all)
    value: object
    keyword: str
    exc: type[Exception] = BadReference
    label: str | None = "link 1"
    requests: int | None = 0  # requests the probe server must see; None: not checked


def L(url: str, keyword: str, requests: int | None = 0) -> Bad:
    return Bad("url", url, keyword, requests=requests)


def A(keyword: str, **changes: object) -> Bad:
    return Bad("attachment", meta(**changes), keyword, label="image3")


BAD = {
    # schemes
    "http": L(
        "http://images.example.com:{port}/ok.png", "only https links are accepted (got http)"
    ),
    "ftp": L("ftp://images.example.com/ok.png", "(got ftp)"),
    "file": L("file:///etc/passwd", "(got file)"),
    "data": L("data:image/png;base64,iVBORw0KGgo=", "(got data)"),
    "javascript": L("javascript:alert(1)", "(got javascript)"),
    "gopher": L("gopher://images.example.com:{port}/ok.png", "(got gopher)"),
    "no-scheme": L("images.example.com/ok.png", "must start with https://"),
    "garbage": L("https://[::1/x.png", "not a valid link"),
    # user-info
    "userinfo": L("https://user:hunter2@images.example.com:{port}/ok.png", "user name or password"),
    "userinfo-empty": L("https://@images.example.com:{port}/ok.png", "user name or password"),
    # literal IPv4 addresses
    "loopback": L("https://127.0.0.1:{port}/ok.png", "loopback"),
    "private-10": L("https://10.0.0.1/ok.png", "the address points to a private network"),
    "private-172": L("https://172.16.5.4/ok.png", "private network"),
    "private-192": L("https://192.168.1.1/ok.png", "private network"),
    "link-local": L("https://169.254.10.1/ok.png", "link-local"),
    "metadata-ip": L("https://169.254.169.254/latest/meta-data/", "metadata"),
    "metadata-alibaba": L("https://100.100.100.200/latest/meta-data/", "metadata"),
    "cgnat": L("https://100.64.1.1/ok.png", "carrier-grade nat"),
    "unspecified": L("https://0.0.0.0:{port}/ok.png", "unspecified"),
    "multicast": L("https://224.0.0.1/ok.png", "multicast"),
    "reserved": L("https://240.0.0.1/ok.png", "reserved"),
    "documentation": L("https://192.0.2.10/ok.png", "documentation"),
    # IPv4 literal tricks
    "decimal": L("https://2130706433:{port}/ok.png", "loopback"),
    "octal": L("https://0177.0.0.1:{port}/ok.png", "loopback"),
    "hex": L("https://0x7f.1:{port}/ok.png", "loopback"),
    "hex-whole": L("https://0x7f000001:{port}/ok.png", "loopback"),
    "short": L("https://127.1:{port}/ok.png", "loopback"),
    "octal-private": L("https://012.1/ok.png", "private network"),
    "bad-numeric": L("https://1.2.3.456/ok.png", "not a valid one"),
    "fullwidth": L("https://１２７.０.０.１:{port}/ok.png", "loopback"),
    # IPv6 forms
    "v6-loopback": L("https://[::1]:{port}/ok.png", "loopback"),
    "v6-unspecified": L("https://[::]/ok.png", "unspecified"),
    "v6-link-local": L("https://[fe80::1]/ok.png", "link-local"),
    "v6-zone": L("https://[fe80::1%25eth0]/ok.png", "zone id"),
    "v6-ula": L("https://[fc00::1]/ok.png", "private network"),
    "v6-mapped": L("https://[::ffff:127.0.0.1]:{port}/ok.png", "loopback"),
    "v6-mapped-hex": L("https://[::ffff:7f00:1]:{port}/ok.png", "loopback"),
    "v6-mapped-public": L("https://[::ffff:8.8.8.8]/ok.png", "ipv6 form"),
    "v6-compat": L("https://[::127.0.0.1]/ok.png", "loopback"),
    "v6-nat64-private": L("https://[64:ff9b::a00:1]/ok.png", "private network"),
    "v6-nat64-public": L("https://[64:ff9b::808:808]/ok.png", "translation"),
    "v6-6to4-private": L("https://[2002:c0a8:101::1]/ok.png", "private network"),
    "v6-multicast": L("https://[ff02::1]/ok.png", "multicast"),
    "v6-documentation": L("https://[2001:db8::1]/ok.png", "documentation"),
    # names
    "localhost": L("https://localhost:{port}/ok.png", "local name"),
    "localhost-dot": L("https://localhost.:{port}/ok.png", "local name"),
    "sub-localhost": L("https://img.localhost:{port}/ok.png", "local name"),
    "idn-localhost": L("https://ⓛocalhost:{port}/ok.png", "local name"),
    "metadata-name": L("https://metadata.google.internal/computeMetadata/v1/", "metadata"),
    "single-label": L("https://intranet/ok.png", "not a full public domain name"),
    "percent-host": L("https://%31%32%37.0.0.1:{port}/ok.png", "not a valid"),
    "bad-host-chars": L("https://exa mple.com/ok.png", "not a valid host name"),
    "resolves-private": L("https://private.example.com:{port}/ok.png", "private network"),
    "resolves-mixed": L("https://mixed.example.com:{port}/ok.png", "private network"),
    "unresolvable": L("https://nowhere.example.net/ok.png", "could not be found"),
    # found by the probe
    "redirect-private": L("{base}/to-private", "private.example.com", requests=1),
    "redirect-mixed": L("{base}/to-mixed", "private network", requests=1),
    "redirect-http": L("{base}/to-http", "only https links are accepted (got http)", 1),
    "redirect-loopback": L("{base}/to-loopback", "redirects to 127.0.0.1/x.png", 1),
    "redirect-userinfo": L("{base}/to-userinfo", "user name or password", 1),
    "redirect-nowhere": L("{base}/to-nowhere", "without saying where", 1),
    "too-many-redirects": L("{base}/loop", "redirects too many times (more than 3)", 4),
    "text-html": L("{base}/page.html", "is text/html, not a jpeg, png or webp image", 1),
    "no-content-type": L("{base}/notype.png", "does not say what type", 1),
    "too-large": L("{base}/big.png", "is 20.0 mb, the limit is 10 mb", 1),
    "zero-size": L("{base}/empty.png", "empty", 1),
    "not-found": L("{base}/missing.png", "answered 404", 1),
    # attachments
    "att-gif": A("is image/gif, not a jpeg", content_type="image/gif"),
    "att-unknown-type": A("file type is unknown", content_type=None, filename="a.bmp"),
    "att-too-large": A("is 12.4 mb, the limit is 10 mb", size=int(12.4 * MiB)),
    "att-empty": A("empty", size=0),
    "att-too-small": A("is 320×240, the short side must be at least 400 px", width=320, height=240),
    "att-narrow": A("short side", width=4000, height=399),
    "att-unreadable": A("not an image discord could read", width=None, height=None),
    "att-non-cdn": A(
        "not hosted on discord's cdn (evil.example.com)", url="https://evil.example.com/a.png"
    ),
    "att-cdn-lookalike": A("not hosted", url="https://cdn.discordapp.com.evil.example/a.png"),
    "att-cdn-userinfo": A("not hosted", url="https://cdn.discordapp.com@evil.example/a.png"),
    "att-http-cdn": A("(got http)", url="http://cdn.discordapp.com/attachments/1/2/a.png"),
    # counts and duplicates
    "none": Bad("all", ([], []), "no reference images", exc=BadInput, label=None),
    "ten": Bad(
        "all", ([("image1", meta())], ["{base}/ok.png"] * 9), "10 images, at most 9", BadInput, None
    ),
    "duplicate": Bad(
        "all",
        ([], ["{base}/ok.png", "{base}/ok.jpg", "{base}/ok.png"]),
        "same image as link 1",
        label="link 3",
    ),
    "duplicate-normalised": Bad(
        "all",
        ([], ["{base}/ok.png", "https://IMAGES.example.com.:{port}/ok.png#x"]),
        "same image as link 1",
        label="link 2",
    ),
    "duplicate-attachment": Bad(
        "all", ([("image1", meta())], [CDN]), "same image as image1", label="link 1"
    ),
    "bad-link-after-good": Bad(
        "all",
        ([("image1", meta())], ["{base}/ok.png", "ftp://x.example/a.png"]),
        "got ftp",
        label="link 2",
    ),
}


def _fill(text: str, server: ImageServer) -> str:
    return text.format(base=server.url("").rstrip("/"), port=server.port)


@pytest.mark.parametrize("case", list(BAD.values()), ids=list(BAD))
async def test_bad_reference(case: Bad, checker: ReferenceChecker, server: ImageServer) -> None:
    with pytest.raises(BadInput) as info:
        if case.kind == "url":
            assert isinstance(case.value, str)
            await checker.check_url("link 1", _fill(case.value, server))
        elif case.kind == "attachment":
            assert isinstance(case.value, AttachmentMeta)
            checker.check_attachment("image3", case.value)
        else:
            attachments, urls = cast(tuple[list[tuple[str, AttachmentMeta]], list[str]], case.value)
            await checker.check_all(attachments, [_fill(u, server) for u in urls])
    err = info.value
    assert type(err) is case.exc
    shown = error_message(err)  # what the user reads, rendered through the catalogue
    detail = shown
    if case.label is not None:
        assert isinstance(err, BadReference)
        assert err.image == case.label
        detail = render(err.problem)
        assert shown == f"Problem with {case.label}: {detail}"
        assert str(err) == f"{case.label}: {detail}"
    assert case.keyword in detail.lower(), detail
    for secret in ("hunter2", "S3CRET", "hm=abc"):
        assert secret not in shown and secret not in str(err)
    if case.requests is not None:
        assert len(server.requests) == case.requests, server.requests
        if case.requests == 0:
            assert server.connections == 0


# --- good cases -----------------------------------------------------------------------
def test_attachment_ok(checker: ReferenceChecker) -> None:
    ref = checker.check_attachment("image1", meta())
    assert ref == Reference("image1", CDN, "attachment")
    webp = meta(url="https://media.discordapp.net/x.webp", content_type=None, filename="x.WEBP")
    assert checker.check_attachment("image2", webp).source == "attachment"
    edge = meta(size=10 * MiB, width=400, height=400, content_type="image/jpeg")
    assert checker.check_attachment("image3", edge).label == "image3"


async def test_link_ok(checker: ReferenceChecker, server: ImageServer) -> None:
    url = server.url("/ok.png?X-Amz-Signature=abc")
    ref = await checker.check_url("link 1", url)
    assert ref == Reference("link 1", url, "link")
    assert [(r.method, r.path) for r in server.requests] == [("HEAD", "/ok.png")]
    headers = server.requests[0].headers
    assert not {"authorization", "cookie", "proxy-authorization"} & set(headers)
    assert headers["host"] == f"{PUBLIC_IMAGES}:{server.port}"


@pytest.mark.parametrize("head_status", [405, 501, 403], ids=["405", "501", "403-signed-url"])
async def test_head_refused_falls_back_to_ranged_get(
    head_status: int, checker: ReferenceChecker, server: ImageServer
) -> None:
    ok = image("image/jpeg", 300_000)
    server.routes["/nohead.png"] = lambda s: Reply(head_status) if s.method == "HEAD" else ok(s)
    ref = await checker.check_url("link 1", server.url("/nohead.png"))
    assert ref.source == "link"
    assert [(r.method, r.path) for r in server.requests] == [
        ("HEAD", "/nohead.png"),
        ("GET", "/nohead.png"),
    ]
    assert server.requests[1].headers["range"] == "bytes=0-1023"


async def test_ranged_get_size_comes_from_content_range(
    checker: ReferenceChecker, server: ImageServer
) -> None:
    server.routes["/nohead.png"] = lambda s: (
        Reply(501) if s.method == "HEAD" else image(size=11 * MiB)(s)
    )
    with pytest.raises(BadReference, match=r"link 1: is 11\.0 MB, the limit is 10 MB"):
        await checker.check_url("link 1", server.url("/nohead.png"))


async def test_redirects_to_other_public_host_ok(
    checker: ReferenceChecker, server: ImageServer
) -> None:
    await checker.check_url("link 1", server.url("/to-other"))
    await checker.check_url("link 2", server.url("/relative"))
    seen = [(r.path, r.headers["host"].split(":")[0]) for r in server.requests]
    assert seen == [
        ("/to-other", PUBLIC_IMAGES),
        ("/ok.jpg", OTHER_IMAGES),
        ("/relative", PUBLIC_IMAGES),
        ("/ok.jpg", PUBLIC_IMAGES),
    ]


async def test_no_cookie_is_sent_after_set_cookie(
    checker: ReferenceChecker, server: ImageServer
) -> None:
    await checker.check_url("link 1", server.url("/cookie"))
    assert len(server.requests) == 2
    assert all("cookie" not in r.headers for r in server.requests)


async def test_unknown_size_is_accepted(checker: ReferenceChecker, server: ImageServer) -> None:
    server.routes["/chunked.png"] = fixed(
        200, Content_Type="image/png", Transfer_Encoding="chunked"
    )
    await checker.check_url("link 1", server.url("/chunked.png"))


async def test_timeout(server: ImageServer) -> None:
    async def slow(seen: Seen) -> Reply:
        await asyncio.sleep(2)  # the server's lag, well past the probe timeout
        return Reply(200, {"Content-Type": "image/png"})

    server.routes["/slow.png"] = slow
    async with local_session() as session:
        checker = ReferenceChecker(
            session, resolver=StaticResolver(POLICY_TABLE), probe_timeout=0.2
        )
        with pytest.raises(BadReference, match=r"link 1: the server did not answer within 0\.2 s"):
            await checker.check_url("link 1", server.url("/slow.png"))


async def test_check_all_order_and_sources(checker: ReferenceChecker, server: ImageServer) -> None:
    refs = await checker.check_all(
        [("image1", meta()), ("image2", meta(url=CDN.replace("a.png", "b.png")))],
        [server.url("/ok.jpg"), server.url("/typed.webp")],
    )
    assert [(r.label, r.source) for r in refs] == [
        ("image1", "attachment"),
        ("image2", "attachment"),
        ("link 1", "link"),
        ("link 2", "link"),
    ]
    assert refs[2].url == server.url("/ok.jpg")


async def test_links_probe_concurrently_first_bad_in_order_wins(
    checker: ReferenceChecker, server: ImageServer
) -> None:
    second_seen = asyncio.Event()
    overlapped: list[bool] = []

    async def slow_missing(seen: Seen) -> Reply:
        try:
            await asyncio.wait_for(second_seen.wait(), 1.5)
            overlapped.append(True)
        except TimeoutError:
            overlapped.append(False)
        return Reply(404)

    def html(seen: Seen) -> Reply:
        second_seen.set()
        return Reply(200, {"Content-Type": "text/html"})

    server.routes["/slow-missing.png"] = slow_missing
    server.routes["/html"] = html
    with pytest.raises(BadReference) as info:
        await checker.check_all([], [server.url("/slow-missing.png"), server.url("/html")])
    assert info.value.image == "link 1"
    assert "404" in render(info.value.problem)
    assert overlapped == [True]


async def test_dns_rebinding_refused_at_connect_time(server: ImageServer) -> None:
    class Rebinding:
        calls = 0

        async def resolve(self, host: str) -> list[str]:
            self.calls += 1
            return ["93.184.216.34"] if self.calls == 1 else ["127.0.0.1"]

    resolver = Rebinding()
    checker = ReferenceChecker(resolver=resolver)  # its own session, policy-checked connector
    try:
        with pytest.raises(BadReference) as info:
            await checker.check_url("link 1", server.url("/ok.png", host="rebind.example.com"))
    finally:
        await checker.close()
    assert resolver.calls == 2
    assert error_message(info.value) == (
        "Problem with link 1: rebind.example.com resolves to an address that points to the "
        "bot's own machine (loopback)"
    )
    assert server.connections == 0


async def test_injected_session_must_not_carry_credentials() -> None:
    async with aiohttp.ClientSession(
        headers={"Authorization": "Bearer k"}, cookie_jar=aiohttp.DummyCookieJar()
    ) as s1:
        with pytest.raises(ValueError, match="Authorization"):
            ReferenceChecker(s1)
    async with aiohttp.ClientSession() as s2:
        with pytest.raises(ValueError, match="DummyCookieJar"):
            ReferenceChecker(s2)


async def test_close_only_closes_own_session() -> None:
    session = local_session()
    checker = ReferenceChecker(session)
    await checker.close()
    assert not session.closed
    await session.close()
    own = ReferenceChecker(resolver=StaticResolver({}))
    inner = own._get_session()
    await own.close()
    assert inner.closed


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (None, []),
        ("", []),
        ("  \n ", []),
        ("https://a.example/1.png", ["https://a.example/1.png"]),
        (
            "<https://a.example/1.png>\nhttps://b.example/2.png  https://c.example/3.png",
            ["https://a.example/1.png", "https://b.example/2.png", "https://c.example/3.png"],
        ),
        (
            "https://a.example/1.png,https://b.example/2.png",
            ["https://a.example/1.png", "https://b.example/2.png"],
        ),
        (
            "<https://a.example/1.png>, <https://b.example/2.png>,",
            ["https://a.example/1.png", "https://b.example/2.png"],
        ),
        ("https://res.example/w_400,h_300/x.png", ["https://res.example/w_400,h_300/x.png"]),
        ("ftp://x.example/a", ["ftp://x.example/a"]),
    ],
    ids=[
        "none",
        "empty",
        "blank",
        "one",
        "mixed-separators",
        "comma",
        "comma-wrapped",
        "comma-in-url",
        "other-scheme",
    ],
)
def test_parse_url_list(text: str | None, expected: list[str]) -> None:
    assert parse_url_list(text) == expected
