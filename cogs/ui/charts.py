"""The spend charts as Discord files: the catalogue's words, members' display names, and the
render in a worker thread (``hh_bot.reports.charts``)."""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Iterable
from typing import Any

import discord

from cogs.ui import strings as s
from hh_bot.access.purge import ANONYMOUS_ID
from hh_bot.reports.charts import (
    TOP_N,
    ChartText,
    SpendRow,
    month_series,
    render_async,
    server_month_png,
    user_month_png,
)

SERVER_FILE = "usage.png"
USER_FILE = "quota.png"


def _text(title: str, month: dt.date) -> ChartText:
    """The chart's words, rendered here in the reader's language (the drawing code measures
    and wraps plain strings)."""
    return ChartText(
        title=title.format(month=f"{month.year}-{month.month:02d}"),
        x_label=str(s.CHART_X_LABEL),
        y_label=str(s.CHART_Y_LABEL),
        month_total=str(s.CHART_MONTH_TOTAL),
        daily_limit=str(s.CHART_DAILY_LIMIT),
        monthly_limit=str(s.CHART_MONTHLY_LIMIT),
        others=str(s.CHART_OTHERS),
        month_axis=str(s.CHART_MONTH_AXIS),
    )


async def display_names(guild: discord.Guild | None, user_ids: Iterable[int]) -> dict[int, str]:
    """Display names of ``user_ids`` on ``guild`` (the cache, else one fetch each); a member
    who left is shown by id, the anonymised member of a purge by the catalogue's word."""
    names: dict[int, str] = {}
    for user_id in user_ids:
        if user_id == ANONYMOUS_ID:
            names[user_id] = str(s.CHART_ANONYMOUS)
            continue
        member = guild.get_member(user_id) if guild is not None else None
        if member is None and guild is not None:
            try:
                member = await guild.fetch_member(user_id)
            except discord.HTTPException:
                member = None
        names[user_id] = member.display_name if member is not None else str(user_id)
    return names


async def server_chart(
    guild: discord.Guild | None,
    rows: list[SpendRow],
    month: dt.date,
    *,
    daily_limit: int | None,
    monthly_limit: int | None,
) -> discord.File:
    """The server's month, stacked by its top spenders, as an attachment."""
    top = month_series(rows, month, TOP_N).users
    kw: dict[str, Any] = {"daily_limit_milli": daily_limit, "monthly_limit_milli": monthly_limit}
    png = await render_async(
        server_month_png,
        rows,
        month=month,
        text=_text(s.CHART_SERVER_TITLE, month),
        names=await display_names(guild, top),
        **kw,
    )
    return discord.File(io.BytesIO(png), filename=SERVER_FILE)


async def user_chart(
    rows: list[SpendRow], month: dt.date, *, daily_limit: int | None, monthly_limit: int | None
) -> discord.File:
    """One member's month, small, as an attachment."""
    png = await render_async(
        user_month_png,
        rows,
        month=month,
        text=_text(s.CHART_USER_TITLE, month),
        daily_limit_milli=daily_limit,
        monthly_limit_milli=monthly_limit,
    )
    return discord.File(io.BytesIO(png), filename=USER_FILE)
