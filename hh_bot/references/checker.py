"""Reference-image validation: Discord attachments from their metadata, links by a full check.

Links must be https, carry no user-info, and lead (through every redirect) to public hosts
only (see :mod:`hh_bot.references.netpolicy`); a short HEAD or ranged GET then confirms the
server says it serves a JPEG, PNG or WEBP image of an accepted size. Every rejection is a
:class:`~hh_bot.errors.BadReference` naming the image and a :class:`~hh_bot.i18n.Reason`
(``reference.*``) the Discord layer renders for the user.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from http import HTTPStatus

import aiohttp
from yarl import URL

from hh_bot.errors import BadInput, BadReference
from hh_bot.i18n import Reason, current_locale, text as text_of
from hh_bot.references.netpolicy import (
    USER_INFO,
    PolicyViolation,
    Resolver,
    link_problem,
    normalise_host,
    parse_ip_literal,
    parse_link,
    short_host,
    short_url,
    shown_token,
)
from hh_bot.references.resolvers import PublicOnlyResolver, SystemResolver, resolve_public

__all__ = ["AttachmentMeta", "Reference", "ReferenceChecker", "Resolver", "parse_url_list"]

# --- reasons (catalogue keys: hh_bot/i18n/en.py) --------------------------------------------
NOT_CDN_INVALID = Reason("reference.not_cdn_invalid")
NOT_CDN_NO_HOST = Reason("reference.not_cdn_no_host")
UNKNOWN_TYPE = Reason("reference.unknown_type")
NO_CONTENT_TYPE = Reason("reference.no_content_type")
EMPTY = Reason("reference.empty")
UNREADABLE = Reason("reference.unreadable")
REDIRECT_NOWHERE = Reason("reference.redirect_nowhere")
REDIRECT_INVALID = Reason("reference.redirect_invalid")
CERTIFICATE = Reason("reference.certificate")
UNREACHABLE = Reason("reference.unreachable")
BROKEN_ANSWER = Reason("reference.broken_answer")

ACCEPTED_TYPES: Mapping[str, str] = {
    "image/jpeg": "JPEG",
    "image/jpg": "JPEG",  # common misspelling some servers send
    "image/png": "PNG",
    "image/webp": "WEBP",
}
_EXTENSION_TYPES: Mapping[str, str] = {
    "jpg": "image/jpeg",
    "jpeg": "image/jpeg",
    "png": "image/png",
    "webp": "image/webp",
}
_REDIRECTS = frozenset({301, 302, 303, 307, 308})
# HEAD answers after which the ranged GET is tried: not allowed / not implemented, and 403,
# which signed URLs (S3-style, signed for GET only) give to HEAD.
_HEAD_FALLBACK = frozenset({403, 405, 501})
_CONTENT_RANGE = re.compile(r"^\s*bytes\s+(?:\d+-\d+|\*)\s*/\s*(\d+|\*)\s*$", re.IGNORECASE)
_URL_SEPARATOR = re.compile(r",(?=\s*<?[A-Za-z][A-Za-z0-9+.-]*:)")
_CREDENTIAL_HEADERS = ("authorization", "proxy-authorization", "cookie")
_PROBE_HEADERS = {
    "Accept": "image/jpeg, image/png, image/webp",
    "Accept-Encoding": "identity",
    "User-Agent": "hh-bot reference check",
}


@dataclass(frozen=True)
class AttachmentMeta:
    """What the Discord layer knows about an attachment; attachments are never fetched."""

    filename: str
    url: str
    content_type: str | None
    size: int
    width: int | None
    height: int | None


@dataclass(frozen=True)
class Reference:
    """A validated reference image. ``source`` is ``"attachment"`` or ``"link"``."""

    label: str
    url: str
    source: str


def parse_url_list(text: str | None) -> list[str]:
    """Split the ``urls`` option into links: on whitespace and newlines, and on commas that
    start a new link (commas inside a URL, e.g. image-CDN transforms, are kept). Strips the
    ``<...>`` wrappers Discord users add to suppress embeds."""
    if not text:
        return []
    links: list[str] = []
    for token in text.split():
        for piece in _URL_SEPARATOR.split(token):
            link = piece.strip().strip(",").strip("<>").strip()
            if link:
                links.append(link)
    return links


def _size_text(n: int) -> str:
    if n < 1024:
        return f"{n} bytes"
    if n < 1024 * 1024:
        return f"{n / 1024:.1f} KB"
    return f"{n / (1024 * 1024):.1f} MB"


def _limit_text(n: int) -> str:
    if n % (1024 * 1024) == 0:
        return f"{n // (1024 * 1024)} MB"
    return _size_text(n)


def _media_type(value: str | None) -> str | None:
    if value is None:
        return None
    media = value.split(";", 1)[0].strip().lower()
    return media or None


def _dedupe_key(url: URL) -> str:
    return f"{url.scheme}://{normalise_host(url.raw_host or '')}:{url.port}{url.raw_path_qs}"


def _size_of(status: int, headers: Mapping[str, str]) -> int | None:
    if status == 206:
        match = _CONTENT_RANGE.match(headers.get("Content-Range", ""))
        if match is None or match.group(1) == "*":
            return None
        return int(match.group(1))
    length = headers.get("Content-Length", "").strip()
    return int(length) if length.isdigit() else None


def _via(target: URL, reason: Reason) -> Reason:
    return Reason("reference.via_redirect", {"target": short_url(target)}, reason)


def _at_hop(url: URL, hop: int, reason: Reason) -> Reason:
    return reason if hop == 0 else _via(url, reason)


def _wrong_type(media: str) -> Reason:
    return Reason("reference.wrong_type", {"ctype": shown_token(media)})


def _connection_reason(exc: aiohttp.ClientError) -> Reason:
    if isinstance(exc, aiohttp.ClientConnectorError):
        if isinstance(exc.os_error, PolicyViolation):
            return exc.os_error.reason
        if isinstance(exc, aiohttp.ClientConnectorCertificateError | aiohttp.ClientSSLError):
            return CERTIFICATE
        if isinstance(exc, aiohttp.ClientConnectorDNSError):
            return Reason("reference.host.not_found", {"host": short_host(exc.host)})
        return UNREACHABLE
    return BROKEN_ANSWER


class ReferenceChecker:
    """Validates the reference images of one request. Owns its HTTP session unless given one.

    An injected session must not carry credentials (no default Authorization or Cookie header,
    no default auth) and must use :class:`aiohttp.DummyCookieJar`; without one, the checker's
    own session connects through :class:`~hh_bot.references.resolvers.PublicOnlyResolver` so
    the address actually connected to is checked too."""

    def __init__(
        self,
        session: aiohttp.ClientSession | None = None,
        *,
        resolver: Resolver | None = None,
        probe_timeout: float = 5.0,
        max_bytes: int = 10 * 1024 * 1024,
        min_side: int = 400,
        max_images: int = 9,
        max_redirects: int = 3,
        cdn_hosts: frozenset[str] = frozenset({"cdn.discordapp.com", "media.discordapp.net"}),
    ) -> None:
        if session is not None:
            _refuse_credentials(session)
        self._session = session
        self._owns_session = session is None
        self._closed = False
        self._resolver: Resolver = resolver if resolver is not None else SystemResolver()
        self._probe_timeout = probe_timeout
        self._max_bytes = max_bytes
        self._min_side = min_side
        self._max_images = max_images
        self._max_redirects = max_redirects
        self._cdn_hosts = frozenset(normalise_host(h) for h in cdn_hosts)

    # --- attachments ------------------------------------------------------------------
    def check_attachment(self, label: str, meta: AttachmentMeta) -> Reference:
        """Check an attachment from Discord's metadata alone (no fetch, no DNS)."""
        url = parse_link(meta.url)
        if isinstance(url, Reason):
            raise BadReference(label, NOT_CDN_INVALID)
        if url.scheme != "https":
            scheme = shown_token(url.scheme)
            raise BadReference(label, Reason("reference.not_cdn_https", {"scheme": scheme}))
        host = normalise_host(url.raw_host or "")
        if (
            host not in self._cdn_hosts
            or url.raw_user is not None
            or "@" in url.raw_authority
            or url.explicit_port not in (None, 443)
        ):
            if not host:
                raise BadReference(label, NOT_CDN_NO_HOST)
            raise BadReference(label, Reason("reference.not_cdn", {"host": short_host(host)}))
        media = _media_type(meta.content_type)
        if media is None:
            extension = meta.filename.rsplit(".", 1)[-1].lower() if "." in meta.filename else ""
            media = _EXTENSION_TYPES.get(extension)
            if media is None:
                raise BadReference(label, UNKNOWN_TYPE)
        if media not in ACCEPTED_TYPES:
            raise BadReference(label, _wrong_type(media))
        self._check_size(label, meta.size)
        if not meta.width or not meta.height or meta.width < 0 or meta.height < 0:
            raise BadReference(label, UNREADABLE)
        if min(meta.width, meta.height) < self._min_side:
            sizes = {"w": meta.width, "h": meta.height, "min_side": self._min_side}
            raise BadReference(label, Reason("reference.too_small", sizes))
        return Reference(label=label, url=meta.url, source="attachment")

    def _check_size(self, label: str, size: int | None) -> None:
        if size is None:
            return
        if size <= 0:
            raise BadReference(label, EMPTY)
        if size > self._max_bytes:
            sizes = {"size": _size_text(size), "limit": _limit_text(self._max_bytes)}
            raise BadReference(label, Reason("reference.too_large", sizes))

    # --- links ------------------------------------------------------------------------
    def _check_syntax(self, label: str, text: str) -> URL:
        url = parse_link(text)
        if isinstance(url, Reason):
            raise BadReference(label, url)
        problem = link_problem(url)
        if problem is not None:
            raise BadReference(label, problem)
        return url

    async def check_url(self, label: str, url: str) -> Reference:
        """The full check of one link: syntax and host policy, resolution, then the probe."""
        parsed = self._check_syntax(label, url)
        return await self._probe(label, url.strip(), parsed)

    async def _probe(self, label: str, original: str, url: URL) -> Reference:
        method = "HEAD"
        for hop in range(self._max_redirects + 2):
            if hop > self._max_redirects:
                too_many = Reason("reference.too_many_redirects", {"n": self._max_redirects})
                raise BadReference(label, too_many)

            try:
                async with asyncio.timeout(self._probe_timeout):
                    if parse_ip_literal(url.raw_host or "") is None:
                        await resolve_public(self._resolver, url.raw_host or "")
                    status, headers = await self._request(method, url)
                    if method == "HEAD" and status in _HEAD_FALLBACK:
                        method = "GET"
                        status, headers = await self._request(method, url)
            except PolicyViolation as exc:
                raise BadReference(label, _at_hop(url, hop, exc.reason)) from None
            except TimeoutError:
                timed_out = Reason("reference.timed_out", {"seconds": self._probe_timeout})
                raise BadReference(label, timed_out) from None
            except aiohttp.ClientError as exc:
                raise BadReference(label, _at_hop(url, hop, _connection_reason(exc))) from None
            if status not in _REDIRECTS:
                self._check_answer(label, status, headers)
                return Reference(label=label, url=original, source="link")
            location = headers.get("Location")
            if not location:
                raise BadReference(label, REDIRECT_NOWHERE)
            parsed = parse_link(location)
            if isinstance(parsed, Reason):
                via_link = Reason("reference.via_redirect_link", cause=parsed)
                raise BadReference(label, via_link if parsed == USER_INFO else REDIRECT_INVALID)
            target = url.join(parsed)
            problem = link_problem(target)
            if problem is not None:
                raise BadReference(label, _via(target, problem))
            url = target
        raise AssertionError("unreachable")  # pragma: no cover

    async def _request(self, method: str, url: URL) -> tuple[int, Mapping[str, str]]:
        headers = dict(_PROBE_HEADERS)
        if method == "GET":
            headers["Range"] = "bytes=0-1023"
        session = self._get_session()
        async with session.request(
            method,
            url,
            headers=headers,
            allow_redirects=False,
            timeout=aiohttp.ClientTimeout(total=self._probe_timeout),
        ) as response:
            result = response.status, response.headers
            response.close()  # never read the body
        return result

    def _check_answer(self, label: str, status: int, headers: Mapping[str, str]) -> None:
        if not 200 <= status < 300:
            try:
                phrase = f"{status} ({HTTPStatus(status).phrase})"
            except ValueError:
                phrase = str(status)
            raise BadReference(label, Reason("reference.http_status", {"status": phrase}))
        media = _media_type(headers.get("Content-Type"))
        if media is None:
            raise BadReference(label, NO_CONTENT_TYPE)
        if media not in ACCEPTED_TYPES:
            raise BadReference(label, _wrong_type(media))
        self._check_size(label, _size_of(status, headers))

    # --- a whole request ----------------------------------------------------------------
    async def check_all(
        self, attachments: Sequence[tuple[str, AttachmentMeta]], urls: Sequence[str]
    ) -> list[Reference]:
        """Check every image: attachments first, then links (labelled ``link 1``…), in order.

        Counts and everything decidable offline (attachments, link syntax, literal addresses,
        local names, duplicates) are checked first, in order, before any network use; then the
        links are resolved and probed concurrently, and the error reported is the first bad
        link in order."""
        total = len(attachments) + len(urls)
        if total == 0:
            raise BadInput("no_references", field="images")
        if total > self._max_images:
            counts = {"n": total, "limit": self._max_images}
            raise BadInput("too_many_references", field="images", params=counts)
        references = [self.check_attachment(label, meta) for label, meta in attachments]
        seen: dict[str, str] = {}
        for ref in references:
            parsed = parse_link(ref.url)
            if isinstance(parsed, URL):
                key = _dedupe_key(parsed)
                if key in seen:
                    duplicate = Reason("reference.duplicate", {"other": seen[key]})
                    raise BadReference(ref.label, duplicate)
                seen[key] = ref.label
        checked: list[tuple[str, str, URL]] = []
        for number, text in enumerate(urls, start=1):
            label = text_of("reference.label.link", current_locale.get(), number=number)
            url = self._check_syntax(label, text)
            key = _dedupe_key(url)
            if key in seen:
                raise BadReference(label, Reason("reference.duplicate", {"other": seen[key]}))
            seen[key] = label
            checked.append((label, text.strip(), url))
        probes = [asyncio.create_task(self._probe(*item)) for item in checked]
        try:
            for probe in probes:  # in order, so the first bad link is the one reported
                references.append(await probe)
        finally:
            for probe in probes:
                probe.cancel()  # later links need no answer once an earlier one failed
            await asyncio.gather(*probes, return_exceptions=True)
        return references

    # --- session ------------------------------------------------------------------------
    def _get_session(self) -> aiohttp.ClientSession:
        if self._closed:
            raise RuntimeError("the reference checker is closed")
        if self._session is None:
            self._session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(resolver=PublicOnlyResolver(self._resolver)),
                cookie_jar=aiohttp.DummyCookieJar(),
                trust_env=False,  # a proxy would resolve names itself, past the policy
            )
        return self._session

    async def close(self) -> None:
        """Close the HTTP session if the checker created it."""
        self._closed = True
        if self._owns_session and self._session is not None:
            await self._session.close()
            self._session = None


def _refuse_credentials(session: aiohttp.ClientSession) -> None:
    if any(name in session.headers for name in _CREDENTIAL_HEADERS) or session.auth is not None:
        raise ValueError("the probe session must not carry Authorization or Cookie headers")
    if not isinstance(session.cookie_jar, aiohttp.DummyCookieJar):
        raise ValueError("the probe session must use aiohttp.DummyCookieJar (no cookies)")
