"""The one connection shape both backends offer the shared SQL (``tx.py``, ``base.py``).

Statements are written once with ``?`` placeholders; the PostgreSQL connection numbers them
(``$1``, ``$2`` …) before asyncpg sees them. Rows come back as plain tuples on both. ``dialect``
lets the few statements that differ pick their variant.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache
from typing import Any, Literal, Protocol

Dialect = Literal["sqlite", "postgres"]
Row = tuple[Any, ...]


class Conn(Protocol):
    dialect: Dialect

    async def execute(self, sql: str, args: Sequence[Any] = ()) -> None: ...

    async def fetchall(self, sql: str, args: Sequence[Any] = ()) -> list[Row]: ...


async def fetchone(conn: Conn, sql: str, args: Sequence[Any] = ()) -> Row | None:
    rows = await conn.fetchall(sql, args)
    return rows[0] if rows else None


async def scalar(conn: Conn, sql: str, args: Sequence[Any] = ()) -> Any:
    """The first column of the first row, or None when there is no row."""
    row = await fetchone(conn, sql, args)
    return None if row is None else row[0]


@lru_cache(maxsize=512)
def numbered(sql: str) -> str:
    """``sql`` with each ``?`` placeholder replaced by ``$1``, ``$2`` … (PostgreSQL's style).

    Our statements hold no ``?`` inside string literals or comments; a quoted one is refused
    rather than silently renumbered."""
    parts = sql.split("?")
    out, quotes = [parts[0]], parts[0].count("'")
    for n, part in enumerate(parts[1:], start=1):
        if quotes % 2:
            raise ValueError(f"a '?' inside a string literal: {sql!r}")
        out.append(f"${n}{part}")
        quotes += part.count("'")
    return "".join(out)
