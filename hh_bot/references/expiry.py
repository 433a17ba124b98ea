"""When a stored reference URL stops working, read from the URL itself.

Discord signs attachment URLs: ``?ex=<hex unix seconds>&is=…&hm=…``, valid about a day. A job
iterated on later (Retry, Remix, Continue) reuses a stored URL while it is valid and asks the
Discord layer for a fresh one once it is not (never by downloading the image). Links that are
not Discord attachments carry no such expiry: they are checked again like new links.
"""

from __future__ import annotations

from yarl import URL

DISCORD_CDN_HOSTS = frozenset({"cdn.discordapp.com", "media.discordapp.net"})
SAFETY_MARGIN = 30 * 60.0
"""A URL expiring sooner than this counts as expired: the job may wait in the queue, and the
API fetches the image only when the task starts."""


def expires_at(url: str) -> float | None:
    """The expiry a Discord attachment URL carries (``ex=``, hex seconds), or None."""
    try:
        value = URL(url).query.get("ex")
    except (TypeError, ValueError):
        return None
    if not value:
        return None
    try:
        return float(int(value, 16))
    except ValueError:
        return None


def is_expired(url: str, now: float, *, margin: float = SAFETY_MARGIN) -> bool:
    """Whether ``url``'s signature runs out before ``now + margin`` (no ``ex=``: it never does)."""
    at = expires_at(url)
    return at is not None and at <= now + margin


def attachment_key(url: str) -> str | None:
    """What stays the same when Discord re-signs an attachment URL: its path
    (``/attachments/<channel>/<attachment>/<name>``); None for other URLs."""
    try:
        path = URL(url).path
    except (TypeError, ValueError):
        return None
    marker = path.find("/attachments/")
    return path[marker:] if marker >= 0 else None


def is_discord_attachment(url: str, hosts: frozenset[str] = DISCORD_CDN_HOSTS) -> bool:
    """A Discord attachment (kept as it was checked at admission) rather than a user's link."""
    try:
        parsed = URL(url)
    except (TypeError, ValueError):
        return False
    host = (parsed.host or "").lower()
    return host in hosts and attachment_key(url) is not None
