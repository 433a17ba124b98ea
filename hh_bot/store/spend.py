"""What the ledger says was spent: the usage table, the month chart's days, the export's lines
and the moderation refusals a member collected, as queries over one connection.

Charged spend is the product's rule (no video, no charge: ``jobs.charge``); possibly billed
spend is what the key may have been billed without a video (``billing``). Both are reported
side by side everywhere.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from typing import Any

from hh_bot.reports.charts import SpendRow
from hh_bot.reports.export import LedgerLine
from hh_bot.store.conn import Conn
from hh_bot.store.interface import UsageRow


def scope(
    guild_id: int | None, since: float, until: float, user_id: int | None
) -> tuple[str, list[Any]]:
    """Jobs created in [since, until) on one server (or all), of one member (or all)."""
    where = ["jobs.created_at >= ?", "jobs.created_at < ?"]
    args: list[Any] = [since, until]
    for column, value in (("guild_id", guild_id), ("user_id", user_id)):
        if value is not None:
            where.append(f"jobs.{column} = ?")
            args.append(value)
    return " AND ".join(where), args


async def usage_report(
    conn: Conn, guild_id: int | None, since: float, until: float
) -> list[UsageRow]:
    where, args = scope(guild_id, since, until, None)
    sql = (
        "SELECT jobs.user_id, COUNT(*),"
        " COALESCE(SUM(CASE WHEN charge = 'committed' THEN cost END), 0),"
        " COALESCE(SUM(CASE WHEN charge = 'reserved' THEN cost END), 0),"
        " COALESCE(SUM(billing.amount), 0)"
        " FROM jobs LEFT JOIN billing ON billing.job_id = jobs.id"
        f" WHERE {where} GROUP BY jobs.user_id ORDER BY 3 DESC, 5 DESC, 1"
    )
    # PostgreSQL sums integers as numeric: every figure back to int.
    return [UsageRow(*(int(v) for v in r)) for r in await conn.fetchall(sql, args)]


async def spend_by_day(
    conn: Conn, guild_id: int | None, since: float, until: float, user_id: int | None
) -> list[SpendRow]:
    where, args = scope(guild_id, since, until, user_id)
    sql = f"SELECT created_at, user_id, cost FROM jobs WHERE charge = 'committed' AND {where}"
    sums: defaultdict[tuple[dt.date, int], int] = defaultdict(int)
    for at, user, cost in await conn.fetchall(sql, args):
        sums[(dt.datetime.fromtimestamp(float(at), dt.UTC).date(), int(user))] += int(cost)
    return sorted((day, user, amount) for (day, user), amount in sums.items())


async def ledger_page(
    conn: Conn, guild_id: int | None, since: float, until: float, *, after: int, page: int
) -> tuple[list[LedgerLine], int | None]:
    """Up to ``page`` export lines with a ledger id above ``after``, and the id to read on
    from (None after the last page)."""
    where, args = scope(guild_id, since, until, None)
    sql = (
        "SELECT ledger.id, ledger.job_id, ledger.user_id, ledger.at, ledger.kind,"
        " ledger.amount, billing.amount FROM ledger JOIN jobs ON jobs.id = ledger.job_id"
        " LEFT JOIN billing ON billing.job_id = ledger.job_id AND ledger.kind != 'reserve'"
        f" WHERE ledger.id > ? AND {where} ORDER BY ledger.id LIMIT {int(page)}"
    )
    rows = await conn.fetchall(sql, (after, *args))
    lines = [
        LedgerLine(
            job=str(job_id),
            user=int(user),
            at=dt.datetime.fromtimestamp(float(at), dt.UTC),
            what=str(kind),
            charged_milli=int(amount) if kind == "commit" else 0,
            possibly_billed_milli=int(billed or 0),
        )
        for _, job_id, user, at, kind, amount, billed in rows
    ]
    return lines, (int(rows[-1][0]) if len(rows) == page else None)


async def moderation_refusals(
    conn: Conn, guild_id: int | None, user_id: int, since: float
) -> list[float]:
    where = "guild_id = ?" if guild_id is not None else "guild_id IS NULL"
    args: list[Any] = [user_id, since] + ([guild_id] if guild_id is not None else [])
    sql = (
        "SELECT COALESCE(finished_at, updated_at) FROM jobs WHERE user_id = ?"
        " AND COALESCE(finished_at, updated_at) >= ?"
        " AND (error_kind = 'ModerationBlocked'"
        " OR (error_kind = 'TaskFailed' AND error_detail = 'DataInspectionFailed'))"
        f" AND {where} ORDER BY 1"
    )
    return [float(r[0]) for r in await conn.fetchall(sql, args)]
