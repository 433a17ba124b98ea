"""``DATABASE_URL``: which backend, and where.

``sqlite:///<path>`` (relative to the working directory; ``sqlite:////abs/path`` for an absolute
one) is the default; ``postgresql://user:password@host:port/database`` (or ``postgres://``)
selects the PostgreSQL backend, with asyncpg's query parameters (``sslmode`` …).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal
from urllib.parse import urlsplit

SQLITE_PREFIX = "sqlite:///"
POSTGRES_SCHEMES = ("postgresql", "postgres")
EXPECTED = "sqlite:///<path> or postgresql://user:password@host:port/database"


class BadDatabaseUrl(ValueError):
    """``DATABASE_URL`` names no backend we have; the message says what is expected."""


@dataclass(frozen=True)
class DatabaseUrl:
    backend: Literal["sqlite", "postgres"]
    target: str
    """The SQLite file's path, or the whole PostgreSQL URL."""


def parse_database_url(url: str) -> DatabaseUrl:
    if url.startswith(SQLITE_PREFIX):
        path = url[len(SQLITE_PREFIX) :]
        if not path:
            raise BadDatabaseUrl(f"no SQLite path: expected {EXPECTED}")
        return DatabaseUrl("sqlite", path)
    scheme = url.split("://", 1)[0].lower() if "://" in url else ""
    if scheme in POSTGRES_SCHEMES:
        try:
            urlsplit(url).port  # noqa: B018 - a bad port raises here, not on first connect
        except ValueError:
            raise BadDatabaseUrl(f"bad port in the PostgreSQL URL: expected {EXPECTED}") from None
        return DatabaseUrl("postgres", url)
    shown = f"scheme {scheme}://" if scheme else "no scheme"
    raise BadDatabaseUrl(f"unknown database ({shown}): expected {EXPECTED}")
