"""Where the finished video may be fetched from: the reference links' public-address rules
(``hh_bot.references.netpolicy``) applied to the result link the API hands out.

A bad gateway answer must not turn the bot into a proxy for a metadata or private address whose
bytes it would then publish. So the link must be https, its host public, every address it
resolves to public — checked before the request (``LinkRules.check``) and again at connection
time by the download session's resolver (``LinkResolver``, against DNS rebinding; aiohttp does
not resolve IP literals, which the first check covers). Redirects are not followed.

Local means local: when ``APIYI_BASE_URL`` itself points at a loopback address (a test fake on
127.0.0.1 or localhost), http and loopback result links are accepted too — and nothing else
opens the rules. ``base_url_problem`` is the same rule for the base URL (the key travels there).
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field

import aiohttp
import yarl

from hh_bot.errors import UnsafeLink
from hh_bot.i18n import Reason
from hh_bot.references.netpolicy import (
    PolicyViolation,
    Resolver,
    address_problem,
    link_problem,
    normalise_host,
    parse_ip_literal,
    short_host,
)
from hh_bot.references.resolvers import AiohttpResolver, SystemResolver

#: Media types a result download may carry (storage often labels MP4 files generically).
VIDEO_TYPES = frozenset({"video/mp4", "application/octet-stream", "binary/octet-stream"})


def is_loopback_host(raw_host: str) -> bool:
    """``localhost`` (or a name under it) or a loopback IP literal (127.0.0.0/8, ::1)."""
    host = normalise_host(raw_host)
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        literal = parse_ip_literal(host)
    except ValueError:
        return False
    return literal is not None and literal.is_loopback


def base_url_problem(base_url: str) -> str | None:
    """Why ``base_url`` may not carry the API key, or None: https, or http to a loopback host."""
    url = yarl.URL(base_url)
    if url.scheme not in ("http", "https") or not url.raw_host:
        return "must be an https URL"
    if url.raw_user is not None or url.raw_password is not None:
        return "must not contain a user name or password"
    if url.scheme == "http" and not is_loopback_host(url.raw_host):
        return (
            "must be https (the API key would travel in clear); http only for 127.0.0.1/localhost"
        )
    return None


@dataclass(frozen=True)
class LinkRules:
    """The rules for result links; ``local`` opens them to http and loopback (see module doc)."""

    local: bool = False
    resolver: Resolver = field(default_factory=SystemResolver)

    @classmethod
    def for_base(cls, base_url: str, resolver: Resolver | None = None) -> LinkRules:
        local = is_loopback_host(yarl.URL(base_url).raw_host or "")
        return cls(local, resolver or SystemResolver())

    def allows_address(self, address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
        return address_problem(address) is None or (self.local and address.is_loopback)

    async def check(self, url: yarl.URL) -> None:
        """Raise ``UnsafeLink`` unless ``url`` may be fetched; no connection is made."""
        host = url.raw_host or ""
        if (
            self.local
            and url.scheme in ("http", "https")
            and is_loopback_host(host)
            and url.raw_user is None
            and url.raw_password is None
        ):
            return
        checked = url.with_scheme("https") if self.local and url.scheme == "http" else url
        problem = link_problem(checked)  # scheme, user-info, local names, private literals
        if problem is not None:
            raise UnsafeLink(Reason("download.link_refused", cause=problem))
        if parse_ip_literal(normalise_host(host)) is not None:
            return  # a public literal: link_problem checked it
        await self.check_addresses(host)

    async def check_addresses(self, host: str) -> list[str]:
        """Every address ``host`` resolves to, all allowed; else ``UnsafeLink``."""
        shown = {"host": short_host(host)}
        try:
            answers = await self.resolver.resolve(host)
        except OSError:
            raise UnsafeLink(Reason("download.host_not_found", shown)) from None
        for answer in answers or ["-"]:
            try:
                address = ipaddress.ip_address(answer)
            except ValueError:
                raise UnsafeLink(Reason("download.host_not_found", shown)) from None
            problem = address_problem(address)
            if problem is not None and not self.allows_address(address):
                raise UnsafeLink(Reason("download.host_resolves_to", shown, problem))
        return answers


class LinkResolver(AiohttpResolver):
    """The download session's resolver: every address connected to passes ``LinkRules``."""

    def __init__(self, rules: LinkRules) -> None:
        super().__init__(rules.resolver)
        self._rules = rules

    async def _addresses(self, host: str) -> list[str]:
        try:
            return await self._rules.check_addresses(host)
        except UnsafeLink as exc:  # a PolicyViolation is an OSError: the connector wraps it
            found = Reason("download.host_not_found", {"host": short_host(host)})
            raise PolicyViolation(exc.problem or found) from None


def download_session(rules: LinkRules) -> aiohttp.ClientSession:
    """A session for result downloads only: no cookies, no credentials, ``LinkResolver``."""
    return aiohttp.ClientSession(
        connector=aiohttp.TCPConnector(resolver=LinkResolver(rules)),
        cookie_jar=aiohttp.DummyCookieJar(),
    )
