"""One way to open the store: ``open_store(DATABASE_URL)`` picks the backend (``url.py``)."""

from __future__ import annotations

import sqlite3

from hh_bot.store.interface import Store, StoreUnavailable
from hh_bot.store.url import BadDatabaseUrl, parse_database_url


async def open_store(url: str) -> Store:
    """Open and migrate the database ``url`` names; ``StoreUnavailable`` (one line) when it is
    malformed, unreachable or in use by another process (SQLite)."""
    try:
        where = parse_database_url(url)
    except BadDatabaseUrl as error:
        raise StoreUnavailable(f"DATABASE_URL: {error}") from None
    if where.backend == "postgres":
        from hh_bot.store.postgres import PostgresStore  # asyncpg only when it is used

        return await PostgresStore.open(where.target)
    from hh_bot.store.sqlite import SqliteStore

    try:
        return await SqliteStore.open(where.target)
    except (OSError, sqlite3.Error) as error:
        raise StoreUnavailable(f"cannot open the SQLite database {where.target}: {error}") from None
