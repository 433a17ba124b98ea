"""Spend charts: valid PNGs of the promised size, real content, empty months, worker threads."""

from __future__ import annotations

import asyncio
import datetime as dt
import io
import random
import struct
import zlib

import pytest
from PIL import Image

from hh_bot.reports.charts import (
    SERVER_SIZE,
    USER_SIZE,
    ChartText,
    month_series,
    render_async,
    server_month_png,
    user_month_png,
    warm_up,
)

NOV = dt.date(2026, 11, 1)
TEXT = ChartText(
    title="Spend this month",
    x_label="day",
    y_label="USD",
    month_total="month so far",
    daily_limit="daily limit",
    monthly_limit="monthly limit",
    others="others",
    month_axis="month",
)
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def month_rows(jobs: int = 600, users: int = 40, seed: int = 3) -> list[tuple[dt.date, int, int]]:
    rng = random.Random(seed)
    return [
        (dt.date(2026, 11, rng.randint(1, 30)), rng.randint(1, users), rng.randint(200, 2500))
        for _ in range(jobs)
    ]


def png_size(data: bytes) -> tuple[int, int]:
    """Width and height from the IHDR chunk, checking the chunk's CRC on the way."""
    assert data[:8] == PNG_SIGNATURE
    length, kind = struct.unpack(">I4s", data[8:16])
    assert kind == b"IHDR" and length == 13
    body = data[16 : 16 + length]
    (crc,) = struct.unpack(">I", data[16 + length : 20 + length])
    assert zlib.crc32(kind + body) == crc
    width, height = struct.unpack(">II", body[:8])
    assert data.endswith(b"IEND\xaeB`\x82")
    return width, height


def colours(data: bytes) -> int:
    with Image.open(io.BytesIO(data)) as image:
        found = image.convert("RGB").getcolors(maxcolors=1 << 20)
    assert found is not None
    return len(found)


def test_server_chart_is_a_png_of_the_promised_size_with_real_content() -> None:
    names = {u: f"member {u}" for u in range(1, 41)}
    full = server_month_png(
        month_rows(), month=NOV, text=TEXT, names=names,
        daily_limit_milli=30_000, monthly_limit_milli=600_000,
    )  # fmt: skip
    empty = server_month_png([], month=NOV, text=TEXT, names={})
    assert png_size(full) == SERVER_SIZE
    assert png_size(empty) == SERVER_SIZE
    assert full != empty
    # Eight members, "others", two limit lines and the running total bring colours of their own.
    assert colours(full) > colours(empty) + 8
    with Image.open(io.BytesIO(full)) as a, Image.open(io.BytesIO(empty)) as b:
        pa, pb = a.convert("RGB").tobytes(), b.convert("RGB").tobytes()
    differing = sum(x != y for x, y in zip(pa, pb, strict=True))
    assert differing > len(pa) // 20


def test_empty_month_is_a_valid_chart_not_an_error() -> None:
    for render in (
        lambda: server_month_png([], month=NOV, text=TEXT, names={}, daily_limit_milli=5_000),
        lambda: user_month_png([], month=NOV, text=TEXT),
        lambda: server_month_png([], month=NOV, text=ChartText("", "", "", "", "", ""), names={}),
    ):
        data = render()
        assert png_size(data)[0] > 0
        assert colours(data) > 1


def test_user_chart_is_small() -> None:
    rows = [r for r in month_rows() if r[1] == 7]
    data = user_month_png(
        rows, month=NOV, text=TEXT, daily_limit_milli=2_000, monthly_limit_milli=40_000
    )
    assert png_size(data) == USER_SIZE
    assert colours(data) > colours(user_month_png([], month=NOV, text=TEXT))


@pytest.mark.filterwarnings("ignore:Glyph .* missing from font:UserWarning")  # no CJK font here
def test_caller_text_is_never_parsed_as_maths_and_long_names_fit() -> None:
    names = {1: "$money$ and $$", 2: "x" * 300, 3: "\\frac{1}{0} $\\", 4: "张三"}
    rows = [(NOV, u, 1000 * u) for u in names]
    text = ChartText("$$$", "$", "$x", "^_^", "\\", "{", "$others$", "$")
    assert png_size(server_month_png(rows, month=NOV, text=text, names=names)) == SERVER_SIZE
    assert png_size(user_month_png(rows, month=NOV, text=text)) == USER_SIZE


def test_month_series_sums_back_to_the_rows() -> None:
    rows = month_rows(jobs=2000, users=50)
    rows.append((dt.date(2026, 10, 31), 1, 99_999))  # other months are left out
    rows.append((dt.date(2026, 12, 1), 1, 99_999))
    series = month_series(rows, dt.date(2026, 11, 17), top_n=5)
    in_month = [r for r in rows if r[0].month == 11]
    assert series.month == NOV and series.days == 30
    assert series.total == sum(a for _, _, a in in_month)
    totals: dict[int, int] = {}
    for _, user, amount in in_month:
        totals[user] = totals.get(user, 0) + amount
    ranked = sorted(totals, key=lambda u: (-totals[u], u))
    assert series.users == tuple(ranked[:5])
    assert [sum(v) for v in series.per_user] == [totals[u] for u in ranked[:5]]
    assert sum(series.others) == sum(totals[u] for u in ranked[5:])


def test_month_series_edges() -> None:
    assert month_series([], dt.date(2024, 2, 10)).days == 29
    assert month_series([], NOV).total == 0
    refunds = [(NOV, 1, 500), (NOV, 1, -800), (NOV, 2, 100)]
    series = month_series(refunds, NOV, top_n=3)
    assert series.users == (2,)  # net below zero draws as nothing
    assert series.daily_totals[0] == 100


async def test_render_async_runs_in_worker_threads_and_matches_a_plain_render() -> None:
    rows = month_rows()
    names = {u: f"m{u}" for u in range(1, 41)}
    expected = server_month_png(rows, month=NOV, text=TEXT, names=names)
    renders = [
        render_async(server_month_png, rows, month=NOV, text=TEXT, names=names) for _ in range(4)
    ]
    results = await asyncio.gather(*renders)
    assert all(r == expected for r in results)


def test_warm_up_is_repeatable() -> None:
    warm_up()
    warm_up()


@pytest.mark.parametrize("top_n", [0, 1, 12, 30])
def test_any_number_of_stacked_members(top_n: int) -> None:
    names = {u: f"m{u}" for u in range(1, 41)}
    data = server_month_png(month_rows(), month=NOV, text=TEXT, names=names, top_n=top_n)
    assert png_size(data) == SERVER_SIZE
