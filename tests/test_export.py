"""Ledger export: CSV that sums back to the ledger, parts under the upload limit, streamed."""

from __future__ import annotations

import csv
import datetime as dt
import io
import tracemalloc
from collections.abc import AsyncIterator

import pytest

from hh_bot.reports.export import (
    DEFAULT_PART_BYTES,
    DISCORD_UPLOAD_BYTES,
    HEADER,
    CsvPart,
    LedgerLine,
    csv_parts,
    iso_utc,
    money,
)

T0 = dt.datetime(2026, 11, 1, tzinfo=dt.UTC)
HEADER_LINE = ",".join(HEADER).encode() + b"\r\n"


class Ledger:
    """A ledger of ``n`` generated entries, counting how many have been pulled."""

    def __init__(self, n: int) -> None:
        self.n = n
        self.pulled = 0
        self.charged = 0
        self.billed = 0

    def entry(self, i: int) -> LedgerLine:
        what = ("charge", "refund", "adjust")[i % 3]
        charged = -(i % 997) if what == "refund" else (i * 37) % 5000
        return LedgerLine(
            job=100_000 + i,
            user=(i * 7919) % 400 if i % 50 else "anon-3f2a",
            at=T0 + dt.timedelta(seconds=i * 25),
            what=what,
            charged_milli=charged,
            possibly_billed_milli=max(charged, 0) + (i % 3),
        )

    async def rows(self) -> AsyncIterator[LedgerLine]:
        for i in range(self.n):
            self.pulled += 1
            line = self.entry(i)
            self.charged += line.charged_milli
            self.billed += line.possibly_billed_milli
            yield line


async def collect(rows: AsyncIterator[LedgerLine], max_bytes: int) -> list[CsvPart]:
    return [part async for part in csv_parts(rows, max_bytes=max_bytes)]


def parse(part: CsvPart) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(part.data.decode(), newline="")))


def to_milli(text: str) -> int:
    sign = -1 if text.startswith("-") else 1
    whole, frac = text.lstrip("-").split(".")
    return sign * (int(whole) * 1000 + int(frac))


@pytest.mark.parametrize(
    ("milli", "text"),
    [(0, "0.000"), (1, "0.001"), (1234, "1.234"), (-5, "-0.005"), (-1000, "-1.000"),
     (10**15 + 7, "1000000000000.007")],
)  # fmt: skip
def test_money_is_exact(milli: int, text: str) -> None:
    assert money(milli) == text
    assert to_milli(text) == milli


def test_time_is_iso_utc() -> None:
    tokyo = dt.timezone(dt.timedelta(hours=9))
    assert iso_utc(dt.datetime(2026, 12, 1, 8, 30, 5, 999, tzinfo=tokyo)) == "2026-11-30T23:30:05Z"
    with pytest.raises(ValueError):
        iso_utc(dt.datetime(2026, 12, 1))


async def test_one_part_sums_back_to_the_ledger() -> None:
    ledger = Ledger(500)
    parts = await collect(ledger.rows(), DEFAULT_PART_BYTES)
    assert len(parts) == 1
    rows = parse(parts[0])
    assert len(rows) == 500 == parts[0].rows
    assert sum(to_milli(r["charged"]) for r in rows) == ledger.charged == parts[0].charged_milli
    assert sum(to_milli(r["possibly_billed"]) for r in rows) == ledger.billed
    first = rows[0]
    assert first == {
        "job": "100000", "user": "anon-3f2a", "time": "2026-11-01T00:00:00Z",
        "what": "charge", "charged": "0.000", "possibly_billed": "0.000",
    }  # fmt: skip


async def test_empty_ledger_is_a_header_only_file() -> None:
    parts = await collect(Ledger(0).rows(), 1000)
    assert [(p.number, p.data, p.rows) for p in parts] == [(1, HEADER_LINE, 0)]


async def test_hundred_thousand_rows_split_under_the_limit_streamed() -> None:
    limit = 512 * 1024
    ledger = Ledger(100_000)
    stream = csv_parts(ledger.rows(), max_bytes=limit)
    first = await anext(stream)
    # Only the first part's rows (and the one that did not fit) have been pulled so far.
    assert ledger.pulled <= first.rows + 1 < ledger.n
    parts = [first] + [part async for part in stream]
    assert len(parts) > 1
    assert [p.number for p in parts] == list(range(1, len(parts) + 1))
    total_rows = charged = billed = 0
    for part in parts:
        assert len(part.data) <= limit
        assert part.data.startswith(HEADER_LINE)
        rows = parse(part)
        assert len(rows) == part.rows
        assert sum(to_milli(r["charged"]) for r in rows) == part.charged_milli
        total_rows += len(rows)
        charged += part.charged_milli
        billed += sum(to_milli(r["possibly_billed"]) for r in rows)
    assert total_rows == 100_000
    assert (charged, billed) == (ledger.charged, ledger.billed)
    assert all(len(p.data) > limit * 0.9 for p in parts[:-1])  # parts are filled, not sliver


async def peak_bytes(rows: int, limit: int) -> tuple[int, int]:
    """Peak traced memory while exporting ``rows`` entries, and the size of the export."""
    total = 0
    tracemalloc.start()
    try:
        base = tracemalloc.get_traced_memory()[0]
        async for part in csv_parts(Ledger(rows).rows(), max_bytes=limit):
            total += len(part.data)
            del part
        peak = tracemalloc.get_traced_memory()[1] - base
    finally:
        tracemalloc.stop()
    return peak, total


async def test_memory_stays_near_one_part_whatever_the_ledger_size() -> None:
    # Small numbers: tracemalloc makes every allocation slow.
    limit = 32 * 1024
    small_peak, small_total = await peak_bytes(3_000, limit)
    big_peak, big_total = await peak_bytes(9_000, limit)
    assert big_total > 2.5 * small_total > 10 * limit
    assert big_peak < 1.25 * small_peak  # flat: nothing grows with the number of rows
    assert big_peak < 10 * limit  # a part or two plus fixed overhead (loosely)


async def test_default_limit_fits_a_discord_upload() -> None:
    assert DEFAULT_PART_BYTES < DISCORD_UPLOAD_BYTES
    parts = await collect(Ledger(1000).rows(), DEFAULT_PART_BYTES)
    assert len(parts) == 1


async def test_limit_too_small_for_one_row() -> None:
    with pytest.raises(ValueError):
        await collect(Ledger(3).rows(), len(HEADER_LINE) + 10)


async def test_text_cells_cannot_become_spreadsheet_formulas() -> None:
    async def rows() -> AsyncIterator[LedgerLine]:
        yield LedgerLine("=HYPERLINK(1)", "+1", T0, "@x", -5, 0)

    (part,) = await collect(rows(), 10_000)
    (row,) = parse(part)
    assert row["job"] == "'=HYPERLINK(1)" and row["user"] == "'+1" and row["what"] == "'@x"
    assert row["charged"] == "-0.005"  # numbers stay numbers
