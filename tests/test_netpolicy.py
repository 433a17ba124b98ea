"""The address and link rules, without any network (no real DNS: resolvers are injected)."""

from __future__ import annotations

import ipaddress
import socket

import pytest
from yarl import URL

from hh_bot.i18n import Reason, render
from hh_bot.references.netpolicy import (
    PolicyViolation,
    address_problem,
    host_problem,
    link_problem,
    parse_ip_literal,
    parse_link,
    short_url,
)
from hh_bot.references.resolvers import (
    AiohttpResolver,
    PublicOnlyResolver,
    StaticResolver,
    SystemResolver,
    resolve_public,
)


@pytest.mark.parametrize(
    ("host", "expected"),
    [
        ("127.0.0.1", "127.0.0.1"),
        ("2130706433", "127.0.0.1"),
        ("0177.0.0.1", "127.0.0.1"),
        ("0x7f.1", "127.0.0.1"),
        ("0x7f000001", "127.0.0.1"),
        ("127.1", "127.0.0.1"),
        ("10.1", "10.0.0.1"),
        ("192.168.257", "192.168.1.1"),
        ("0x", "0.0.0.0"),
        ("012.0.0.1", "10.0.0.1"),
        ("127.0.0.1.", "127.0.0.1"),
        ("8.8.8.8", "8.8.8.8"),
        ("::1", "::1"),
        ("[::1]", "::1"),
        ("::ffff:127.0.0.1", "::ffff:7f00:1"),
        ("fe80::1%25eth0", "fe80::1%eth0"),
        ("example.com", None),
        ("1.2.3.example", None),
        ("xn--bcher-kva.example", None),
    ],
)
def test_parse_ip_literal(host: str, expected: str | None) -> None:
    parsed = parse_ip_literal(host)
    assert (None if parsed is None else str(parsed)) == expected


@pytest.mark.parametrize(
    "host", ["1.2.3.256", "256.1.1.1", "1.2.3.4.5", "08.0.0.1", "0x1g.0x", "example.1", "::1::"]
)
def test_parse_ip_literal_refuses_broken_numbers(host: str) -> None:
    with pytest.raises(ValueError):
        parse_ip_literal(host)


@pytest.mark.parametrize(
    ("address", "keyword"),
    [
        ("127.0.0.1", "loopback"),
        ("127.255.0.9", "loopback"),
        ("10.0.0.1", "private network"),
        ("172.31.255.255", "private network"),
        ("192.168.0.1", "private network"),
        ("100.64.0.1", "carrier-grade"),
        ("100.127.255.254", "carrier-grade"),
        ("169.254.1.1", "link-local"),
        ("169.254.169.254", "metadata"),
        ("100.100.100.200", "metadata"),
        ("168.63.129.16", "metadata"),
        ("0.0.0.0", "unspecified"),
        ("0.1.2.3", "unspecified"),
        ("224.0.0.251", "multicast"),
        ("239.255.255.250", "multicast"),
        ("255.255.255.255", "broadcast"),
        ("240.0.0.1", "reserved"),
        ("198.18.0.1", "reserved"),
        ("192.0.2.1", "documentation"),
        ("198.51.100.1", "documentation"),
        ("203.0.113.1", "documentation"),
        ("192.0.0.8", "reserved"),
        ("192.0.0.170", "reserved"),
        ("::1", "loopback"),
        ("::", "unspecified"),
        ("fe80::1", "link-local"),
        ("fe80::1%eth0", "zone id"),
        ("fec0::1", "private network"),
        ("fc00::1", "private network"),
        ("fd12:3456::1", "private network"),
        ("fd00:ec2::254", "metadata"),
        ("ff02::1", "multicast"),
        ("ff0e::1", "multicast"),
        ("2001:db8::1", "documentation"),
        ("3fff::1", "documentation"),
        ("100::1", "reserved"),
        ("::ffff:127.0.0.1", "loopback"),
        ("::ffff:10.0.0.1", "private network"),
        ("::ffff:8.8.8.8", "ipv6 form"),
        ("::7f00:1", "loopback"),
        ("64:ff9b::7f00:1", "loopback"),
        ("64:ff9b::a9fe:a9fe", "metadata"),
        ("64:ff9b::808:808", "translation"),
        ("64:ff9b:1::1", "translation"),
        ("2002:7f00:1::1", "loopback"),
        ("2002:c0a8:101::", "private network"),
        ("2002:808:808::1", "translation"),
        ("2001:0:4136:e378:8000:63bf:3fff:fdd2", "documentation"),
        ("2001:0:4136:e378:8000:63bf:f7f7:f7f7", "translation"),
    ],
)
def test_address_problem(address: str, keyword: str) -> None:
    problem = address_problem(ipaddress.ip_address(address))
    assert problem is not None and keyword in render(problem).lower(), problem


@pytest.mark.parametrize(
    "address", ["8.8.8.8", "93.184.216.34", "1.1.1.1", "2606:4700:4700::1111", "2a00:1450::1"]
)
def test_public_addresses_pass(address: str) -> None:
    assert address_problem(ipaddress.ip_address(address)) is None


@pytest.mark.parametrize(
    ("host", "keyword"),
    [
        ("localhost", "local name"),
        ("LOCALHOST.", "local name"),
        ("a.b.localhost", "local name"),
        ("printer.local", "local name"),
        ("db.internal", "local name"),
        ("router.home.arpa", "local name"),
        ("metadata.google.internal", "metadata"),
        ("metadata", "metadata"),
        ("intranet", "not a full public domain name"),
        ("exa mple.com", "not a valid host name"),
        ("bad_-.example..", "not a valid host name"),
        ("-x.example", "not a valid host name"),
        ("", "no host name"),
        ("2130706433", "the address points to the bot's own machine"),
        ("1.2.3.999", "not a valid one"),
    ],
)
def test_host_problem(host: str, keyword: str) -> None:
    problem = host_problem(host)
    assert problem is not None and keyword in render(problem), problem


@pytest.mark.parametrize(
    "host", ["img.example.com", "example.com.", "xn--bcher-kva.example", "8.8.8.8", "s3_x.aws.com"]
)
def test_host_ok(host: str) -> None:
    assert host_problem(host) is None


@pytest.mark.parametrize(
    ("text", "keyword"),
    [
        ("example.com/a.png", "must start with https://"),
        ("HTTP://example.com/a.png", "(got http)"),
        ("https:a.png", "not a valid link"),
        ("https://u@example.com/a.png", "user name"),
        ("https://@example.com/a.png", "user name"),
        ("https://example.com:0/a.png", "invalid port"),
        ("https://" + "a" * 5000 + ".com/", "too long"),
        ("https://[::1/", "not a valid link"),
    ],
)
def test_link_problem(text: str, keyword: str) -> None:
    parsed = parse_link(text)
    problem = parsed if isinstance(parsed, Reason) else link_problem(parsed)
    assert problem is not None and keyword in render(problem), problem


def test_short_url_hides_query_userinfo_and_long_paths() -> None:
    url = URL("http://user:pw@example.com:8443/" + "p" * 80 + "?X-Amz-Signature=secret#frag")
    shown = short_url(url)
    assert shown.startswith("http://example.com/ppp") and shown.endswith("…")
    assert "secret" not in shown and "pw" not in shown and "8443" not in shown
    assert short_url(URL("https://[::1]/")) == "[::1]"


async def test_resolve_public() -> None:
    resolver = StaticResolver(
        {
            "good.example": ["93.184.216.34", "2606:2800:220:1::1"],
            "Mixed.Example.": ["93.184.216.34", "192.168.0.10"],
            "empty.example": [],
            "junk.example": ["not-an-ip"],
        }
    )
    assert [str(a) for a in await resolve_public(resolver, "GOOD.example.")] == [
        "93.184.216.34",
        "2606:2800:220:1::1",
    ]
    assert [str(a) for a in await resolve_public(resolver, "8.8.8.8")] == ["8.8.8.8"]
    cases = {
        "mixed.example": "mixed.example resolves to an address that points to a private network",
        "empty.example": "the host empty.example could not be found",
        "junk.example": "the host junk.example could not be found",
        "unknown.example": "the host unknown.example could not be found",
        "localhost": "localhost is a local name, not a public address",
        "10.0.0.1": "the address points to a private network",
    }
    for host, reason in cases.items():
        with pytest.raises(PolicyViolation) as info:
            await resolve_public(resolver, host)
        assert render(info.value.reason) == reason
        assert str(info.value) == reason  # the English sentence for logs
        assert isinstance(info.value, OSError)


async def test_public_only_resolver_checks_at_connect_time() -> None:
    table = {"good.example": ["93.184.216.34", "2606:2800:220:1::1"], "bad.example": ["::1"]}
    connect = PublicOnlyResolver(StaticResolver(table))
    results = await connect.resolve("good.example", 443, socket.AF_UNSPEC)
    assert [(r["host"], r["port"], r["family"]) for r in results] == [
        ("93.184.216.34", 443, socket.AF_INET),
        ("2606:2800:220:1::1", 443, socket.AF_INET6),
    ]
    only_v4 = await connect.resolve("good.example", 443, socket.AF_INET)
    assert [r["host"] for r in only_v4] == ["93.184.216.34"]
    with pytest.raises(PolicyViolation, match="loopback"):
        await connect.resolve("bad.example", 443, socket.AF_UNSPEC)
    with pytest.raises(OSError):
        await PublicOnlyResolver(StaticResolver({"v6.example": ["2606::1"]})).resolve(
            "v6.example", 443, socket.AF_INET
        )
    await connect.close()


async def test_plain_adapter_has_no_policy() -> None:
    plain = AiohttpResolver(StaticResolver({"img.example.com": ["127.0.0.1"]}))
    [result] = await plain.resolve("img.example.com", 8443, socket.AF_UNSPEC)
    assert (result["host"], result["port"], result["hostname"]) == (
        "127.0.0.1",
        8443,
        "img.example.com",
    )


async def test_system_resolver_numeric_host_needs_no_dns() -> None:
    assert await SystemResolver().resolve("127.0.0.1") == ["127.0.0.1"]
