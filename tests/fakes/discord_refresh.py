"""Discord's attachment-URL refresh endpoint in the fake: ``POST /attachments/refresh-urls``.

Body ``{"attachment_urls": [...]}``; answer ``{"refreshed_urls": [{"original", "refreshed"}]}``.
Each URL is re-signed with a fresh ``ex=`` (a day from now, hex seconds), ``is=`` and ``hm=``,
and the attachment's stored URL becomes the new one (a fetched message then shows it too).
URLs that name no attachment the fake knows (never uploaded, or ``forget``-ed: deleted) are
left out of the answer, as the bot must then tell the user to attach the image again. Malformed
bodies get Discord's form error.
"""

from __future__ import annotations

import secrets
import time
from typing import TYPE_CHECKING

from yarl import URL

from tests.fakes.discord_limits import ApiError, add_error, form_error
from tests.fakes.discord_payloads import JSON

if TYPE_CHECKING:
    from tests.fakes.discord import FakeDiscord
    from tests.fakes.discord_payloads import FakeAttachment
    from tests.fakes.discord_rest import RecordedRequest

LIFETIME = 86400
MAX_URLS = 50


def signed(url: str, *, expires_at: float | None = None) -> str:
    """``url`` signed as Discord does: ``?ex=<hex expiry>&is=<hex issue>&hm=<signature>&``."""
    now = int(time.time())
    ex = int(expires_at) if expires_at is not None else now + LIFETIME
    base = str(URL(url).with_query(None))
    return f"{base}?ex={ex:x}&is={now:x}&hm={secrets.token_hex(16)}&"


def _path(url: str) -> str | None:
    try:
        return URL(url).path
    except (TypeError, ValueError):
        return None


def find_attachment(fake: FakeDiscord, url: str) -> FakeAttachment | None:
    """The live attachment ``url`` points at (the query, i.e. the signature, aside); those of a
    deleted message are gone with it."""
    path = _path(url)
    if not path or "/attachments/" not in path:
        return None
    gone = {a.id for m in fake.messages.values() if m.deleted for a in m.attachments}
    for att in fake.cdn.values():
        if _path(att.url) == path and att.id not in gone:
            return att
    return None


def forget(fake: FakeDiscord, url: str) -> None:
    """The attachment behind ``url`` is deleted: it can no longer be refreshed or fetched."""
    att = find_attachment(fake, url)
    if att is not None:
        fake.cdn.pop(att.id, None)


async def refresh_urls(fake: FakeDiscord, rec: RecordedRequest) -> tuple[int, JSON]:
    urls = (rec.json or {}).get("attachment_urls")
    if not isinstance(urls, list) or not urls or len(urls) > MAX_URLS:
        errors: JSON = {}
        add_error(errors, ["attachment_urls"], "BASE_TYPE_BAD_LENGTH", f"Must be 1 to {MAX_URLS}.")
        raise form_error(errors)
    if not all(isinstance(u, str) for u in urls):
        raise ApiError(400, 50035, "Invalid Form Body")
    refreshed: list[JSON] = []
    for url in urls:
        att = find_attachment(fake, url)
        if att is None:
            continue
        att.url = signed(att.url)
        refreshed.append({"original": url, "refreshed": att.url})
    return 200, {"refreshed_urls": refreshed}


def resign_expired(fake: FakeDiscord, attachments: list[FakeAttachment]) -> None:
    """A fetched message carries valid URLs (as Discord documents): expired signatures of its
    live attachments are renewed before it is returned."""
    now = time.time()
    for att in attachments:
        ex = URL(att.url).query.get("ex") if att.url else None
        if ex and att.id in fake.cdn and int(ex, 16) <= now:
            att.url = signed(att.url)
