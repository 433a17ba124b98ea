"""Shard claims in the store (``shard_claims``, V7): one row per Discord shard id, held by the
process that runs the shard until a time it renews while it runs (``hh_bot/shards.py``).

Claims are taken in the admission transaction, which is serialised across every process on
the database, so two processes starting at once with overlapping shard ids can't both win.
"""

from __future__ import annotations

from collections.abc import Collection

from hh_bot.store.conn import Conn


async def claim(
    conn: Conn,
    shard_ids: Collection[int],
    holder: str,
    *,
    now: float,
    until: float,
    others_are_dead: bool = False,
) -> dict[int, str]:
    """Claim every one of ``shard_ids`` for ``holder``, or none: the ids another holder still
    has a live claim on (and who), empty when the claim was made. ``others_are_dead``: every
    other holder is gone (SQLite: one process)."""
    ids = sorted(set(shard_ids))
    if not others_are_dead:
        marks = ",".join("?" * len(ids))
        rows = await conn.fetchall(
            f"SELECT shard_id, holder FROM shard_claims WHERE shard_id IN ({marks})"
            " AND holder <> ? AND until > ? ORDER BY shard_id",
            (*ids, holder, now),
        )
        if rows:
            return {int(r[0]): str(r[1]) for r in rows}
    for shard_id in ids:
        await conn.execute(
            "INSERT INTO shard_claims (shard_id, holder, until) VALUES (?, ?, ?)"
            " ON CONFLICT (shard_id) DO UPDATE SET holder = excluded.holder,"
            " until = excluded.until",
            (shard_id, holder, until),
        )
    return {}


async def renew(conn: Conn, holder: str, *, until: float) -> set[int]:
    """Extend ``holder``'s claims; the shard ids it still holds."""
    rows = await conn.fetchall(
        "UPDATE shard_claims SET until = ? WHERE holder = ? RETURNING shard_id", (until, holder)
    )
    return {int(r[0]) for r in rows}


async def release(conn: Conn, holder: str) -> None:
    await conn.execute("DELETE FROM shard_claims WHERE holder = ?", (holder,))
