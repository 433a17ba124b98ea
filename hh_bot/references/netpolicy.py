"""Which links a reference may be fetched from: https, no user-info, public hosts only.

The rules are applied twice: once before the probe (the literal host and every address the
resolver returns), and once more at connection time through
:class:`hh_bot.references.resolvers.PublicOnlyResolver`, so a name that re-resolves to a private
address between the check and the connect (DNS rebinding) is still refused. Refusals are
:class:`~hh_bot.i18n.Reason` codes (``reference.link.*``, ``reference.host.*``,
``reference.address.*``) the Discord layer renders through the catalogue. The resolvers live in
``hh_bot.references.resolvers``.
"""

from __future__ import annotations

import ipaddress
import re
from typing import Protocol

from yarl import URL

from hh_bot.i18n import Reason, render, text as text_of

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

# --- reasons (catalogue keys: hh_bot/i18n/en.py) --------------------------------------------
NOT_A_LINK = Reason("reference.link.not_a_link")
INVALID_LINK = Reason("reference.link.invalid")
TOO_LONG = Reason("reference.link.too_long")
USER_INFO = Reason("reference.link.user_info")
BAD_PORT = Reason("reference.link.bad_port")
# address and host problems are verb phrases; host_problem and resolve_public add the subject
LOOPBACK = Reason("reference.address.loopback")
PRIVATE = Reason("reference.address.private")
CGNAT = Reason("reference.address.cgnat")
LINK_LOCAL = Reason("reference.address.link_local")
METADATA = Reason("reference.address.metadata")
UNSPECIFIED = Reason("reference.address.unspecified")
MULTICAST = Reason("reference.address.multicast")
BROADCAST = Reason("reference.address.broadcast")
DOCUMENTATION = Reason("reference.address.documentation")
RESERVED = Reason("reference.address.reserved")
NOT_GLOBAL = Reason("reference.address.not_global")
MAPPED = Reason("reference.address.mapped")
TRANSLATED = Reason("reference.address.translated")
ZONE_ID = Reason("reference.address.zone_id")
LOCAL_NAME = Reason("reference.address.local_name")
SINGLE_LABEL = Reason("reference.address.single_label")
INVALID_HOST = Reason("reference.address.invalid_host")
NO_HOST = Reason("reference.link.no_host")

_METADATA_V4 = frozenset(
    ipaddress.IPv4Address(a)
    for a in ("169.254.169.254", "169.254.170.2", "100.100.100.200", "168.63.129.16")
)
_METADATA_V6 = frozenset({ipaddress.IPv6Address("fd00:ec2::254")})
_METADATA_NAMES = frozenset({"metadata", "metadata.google.internal", "instance-data"})
# Names that only mean something on the local machine or network (RFC 6761, 6762, 8375, ICANN).
_LOCAL_SUFFIXES = ("localhost", "localdomain", "local", "internal", "home.arpa", "invalid")

_V4_PRIVATE = tuple(
    ipaddress.IPv4Network(n) for n in ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16")
)
_V4_CGNAT = ipaddress.IPv4Network("100.64.0.0/10")
_V4_THIS_NET = ipaddress.IPv4Network("0.0.0.0/8")
_V4_DOCS = tuple(
    ipaddress.IPv4Network(n) for n in ("192.0.2.0/24", "198.51.100.0/24", "203.0.113.0/24")
)
_V4_RESERVED = tuple(
    ipaddress.IPv4Network(n) for n in ("198.18.0.0/15", "192.0.0.0/24", "192.88.99.0/24")
)
_V6_COMPAT = ipaddress.IPv6Network("::/96")
_V6_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")
_V6_NAT64_LOCAL = ipaddress.IPv6Network("64:ff9b:1::/48")
_V6_6TO4 = ipaddress.IPv6Network("2002::/16")
_V6_TEREDO = ipaddress.IPv6Network("2001::/32")
_V6_ULA = ipaddress.IPv6Network("fc00::/7")
_V6_SITE_LOCAL = ipaddress.IPv6Network("fec0::/10")
_V6_DOCS = tuple(ipaddress.IPv6Network(n) for n in ("2001:db8::/32", "3fff::/20"))

_MAX_URL_LENGTH = 4096
_LABEL = re.compile(r"^[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?$")
_NUMERIC_PART = re.compile(r"^(?:0x[0-9a-f]*|[0-9]+)$")


class PolicyViolation(OSError):
    """A host or address is not public. An ``OSError`` so aiohttp's connector wraps it;
    ``reason`` says why, ``str()`` is the English sentence (for logs)."""

    def __init__(self, reason: Reason) -> None:
        super().__init__(render(reason))
        self.reason = reason


class Resolver(Protocol):
    """Turns a host name into IP address strings; raises ``OSError`` if it does not resolve."""

    async def resolve(self, host: str) -> list[str]: ...


def short_host(host: str, limit: int = 60) -> str:
    """A host name cut to ``limit`` characters for messages."""
    return host if len(host) <= limit else host[: limit - 1] + "…"


def normalise_host(raw_host: str) -> str:
    """Lower-case, without IPv6 brackets, ``%25`` zone escapes or one trailing dot."""
    host = raw_host.strip().lower()
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    host = host.replace("%25", "%")
    if host.endswith(".") and not host.endswith(".."):
        host = host[:-1]
    return host


def _parse_v4_part(part: str) -> int:
    if part.startswith("0x"):
        return int(part[2:] or "0", 16)
    if len(part) > 1 and part.startswith("0"):
        return int(part, 8)  # ValueError for 8 or 9, as inet_aton refuses them
    return int(part)


def parse_ip_literal(host: str) -> IPAddress | None:
    """The address a host denotes if it is an IP literal in any form a URL parser or
    ``inet_aton`` accepts (``2130706433``, ``0177.0.0.1``, ``0x7f.1``, ``127.1``, ``[::1]``,
    ``fe80::1%eth0``), else None. Raises ``ValueError`` for something that looks numeric
    but is not a valid address (WHATWG: a host whose last label is a number is IPv4)."""
    host = normalise_host(host)
    if ":" in host:
        return ipaddress.IPv6Address(host)
    parts = host.split(".")
    if not _NUMERIC_PART.match(parts[-1]):
        return None
    if len(parts) > 4 or not all(_NUMERIC_PART.match(p) for p in parts):
        raise ValueError(host)
    values = [_parse_v4_part(p) for p in parts]
    *head, last = values
    if any(v > 255 for v in head) or last >= 256 ** (5 - len(values)):
        raise ValueError(host)
    number = last
    for index, value in enumerate(head):
        number += value << (8 * (3 - index))
    return ipaddress.IPv4Address(number)


def _v4_problem(addr: ipaddress.IPv4Address) -> Reason | None:
    if addr in _METADATA_V4:
        return METADATA
    if addr in _V4_THIS_NET:
        return UNSPECIFIED
    if addr.is_loopback:
        return LOOPBACK
    if addr.is_link_local:
        return LINK_LOCAL
    if any(addr in net for net in _V4_PRIVATE):
        return PRIVATE
    if addr in _V4_CGNAT:
        return CGNAT
    if addr.is_multicast:
        return MULTICAST
    if addr == ipaddress.IPv4Address("255.255.255.255"):
        return BROADCAST
    if any(addr in net for net in _V4_DOCS):
        return DOCUMENTATION
    if addr.is_reserved or any(addr in net for net in _V4_RESERVED):
        return RESERVED
    if not addr.is_global or addr.is_private:
        return NOT_GLOBAL
    return None


def _embedded_v4(addr: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    if addr.ipv4_mapped is not None:
        return addr.ipv4_mapped
    if addr in _V6_COMPAT or addr in _V6_NAT64:
        return ipaddress.IPv4Address(int(addr) & 0xFFFFFFFF)
    if addr.sixtofour is not None:
        return addr.sixtofour
    if addr.teredo is not None:
        return addr.teredo[1]
    return None


def _v6_problem(addr: ipaddress.IPv6Address) -> Reason | None:
    if addr.scope_id:
        return ZONE_ID
    if addr in _METADATA_V6:
        return METADATA
    if addr.is_unspecified:
        return UNSPECIFIED
    if addr.is_loopback:
        return LOOPBACK
    embedded = _embedded_v4(addr)
    if embedded is not None:
        # Conservative: refuse every form that smuggles an IPv4 address, naming the
        # private range when the embedded address is not public.
        inner = _v4_problem(embedded)
        if inner is not None:
            return inner
        return MAPPED if addr.ipv4_mapped is not None or addr in _V6_COMPAT else TRANSLATED
    if addr in _V6_NAT64_LOCAL:
        return TRANSLATED
    if addr.is_link_local:
        return LINK_LOCAL
    if addr in _V6_ULA or addr in _V6_SITE_LOCAL:
        return PRIVATE
    if addr.is_multicast:
        return MULTICAST
    if any(addr in net for net in _V6_DOCS):
        return DOCUMENTATION
    if addr.is_reserved:
        return RESERVED
    if not addr.is_global or addr.is_private:
        return NOT_GLOBAL
    return None


def address_problem(addr: IPAddress) -> Reason | None:
    """Why ``addr`` is not a public internet address, or None if it is."""
    if isinstance(addr, ipaddress.IPv4Address):
        return _v4_problem(addr)
    return _v6_problem(addr)


def _name_problem(host: str) -> Reason | None:
    labels = host.split(".")
    if len(host) > 253 or not all(_LABEL.match(label) for label in labels):
        return INVALID_HOST
    if host in _METADATA_NAMES:
        return METADATA
    if any(host == s or host.endswith("." + s) for s in _LOCAL_SUFFIXES):
        return LOCAL_NAME
    if len(labels) < 2:
        return SINGLE_LABEL
    return None


def host_problem(raw_host: str) -> Reason | None:
    """Why a URL's host (a name or an IP literal) is refused before resolving it ("the address
    points to a private network": ``reference.host.address`` wrapping the address problem), or
    None if it may be resolved."""
    host = normalise_host(raw_host)
    if not host:
        return NO_HOST
    try:
        literal = parse_ip_literal(host)
    except ValueError:
        return Reason("reference.host.bad_numeric", {"host": short_host(host)})
    if literal is not None:
        problem = address_problem(literal)
        return None if problem is None else Reason("reference.host.address", cause=problem)
    problem = _name_problem(host)
    if problem is None:
        return None
    return Reason("reference.host.name", {"host": short_host(host)}, problem)


def shown_token(text: str) -> str:
    """A server- or user-supplied token (a scheme, a media type) made safe to show."""
    return re.sub(r"[^a-z0-9/+.-]", "", text.lower())[:50] or text_of("reference.unknown_token")


def short_url(url: URL) -> str:
    """Host and a truncated path, without user-info, query or fragment (signed URLs are long
    and their query strings are secrets of a kind)."""
    host = url.raw_host or ""
    if ":" in host:
        host = f"[{host}]"
    path = url.raw_path if url.raw_path not in ("", "/") else ""
    if len(path) > 40:
        path = path[:39] + "…"
    prefix = "" if url.scheme == "https" else f"{shown_token(url.scheme)}://"
    return f"{prefix}{short_host(host)}{path}"


def parse_link(text: str) -> URL | Reason:
    """A URL, or the reason why ``text`` cannot be one."""
    text = text.strip()
    if len(text) > _MAX_URL_LENGTH:
        return TOO_LONG
    try:
        url = URL(text)
    except (ValueError, TypeError):
        return INVALID_LINK
    # yarl drops an empty user-info ("https://@host/"); other parsers may not agree on it.
    _, slashes, rest = text.partition("://")
    if slashes and "@" in re.split(r"[/?#\\]", rest, maxsplit=1)[0]:
        return USER_INFO
    return url


def link_problem(url: URL) -> Reason | None:
    """Why a link (or a redirect target) is refused without any network use, or None."""
    if not url.scheme:
        return NOT_A_LINK
    if url.scheme != "https":
        return Reason("reference.link.only_https", {"scheme": shown_token(url.scheme)})
    if not url.is_absolute():
        return INVALID_LINK
    if url.raw_user is not None or url.raw_password is not None or "@" in url.raw_authority:
        return USER_INFO
    if url.explicit_port == 0:
        return BAD_PORT
    return host_problem(url.raw_host or "")
