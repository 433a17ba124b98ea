"""Forgetting a member on one server (``/hh-admin purge-user``), inside one transaction.

Their finished jobs keep their figures (the ledger must still add up) under an anonymous id,
with the prompt, the reference links, the result link and the interaction token removed; the
notices owed to them and their /settings (their own text, on every server) are deleted. Jobs
still running are counted, not touched: they finish first.
"""

from __future__ import annotations

import json

from hh_bot.store.interface import UNFINISHED, Purged
from hh_bot.store.tx import SqlTx


async def purge_member(tx: SqlTx, guild_id: int, user_id: int, anonymous_id: int) -> Purged:
    marks = ",".join("?" * len(UNFINISHED))
    running = int(
        await tx.scalar(
            f"SELECT COUNT(*) FROM jobs WHERE user_id = ? AND guild_id = ? AND state IN ({marks})",
            (user_id, guild_id, *UNFINISHED),
        )
    )
    rows = await tx.conn.fetchall(
        f"SELECT id, params, reply FROM jobs WHERE user_id = ? AND guild_id = ?"
        f" AND state NOT IN ({marks}) ORDER BY created_at, id",
        (user_id, guild_id, *UNFINISHED),
    )
    for job_id, params, reply in rows:
        kept = {**json.loads(params), "prompt": "", "image_urls": [], "image_labels": []}
        target = {**json.loads(reply), "interaction_token": ""}
        await tx.conn.execute(
            "UPDATE jobs SET user_id = ?, params = ?, reply = ?, result_url = NULL WHERE id = ?",
            (anonymous_id, json.dumps(kept), json.dumps(target), job_id),
        )
        await tx.conn.execute(
            "UPDATE ledger SET user_id = ?, prompt = '' WHERE job_id = ?", (anonymous_id, job_id)
        )
        await tx.conn.execute(
            "UPDATE billing SET user_id = ? WHERE job_id = ?", (anonymous_id, job_id)
        )
        await tx.conn.execute("DELETE FROM notices WHERE job_id = ?", (job_id,))
    await tx.conn.execute("DELETE FROM user_settings WHERE user_id = ?", (user_id,))
    return Purged(tuple(str(r[0]) for r in rows), running)
