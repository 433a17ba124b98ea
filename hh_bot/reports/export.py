"""The ledger as CSV for accounting, streamed and cut into parts that each fit one upload.

Columns (one row per ledger entry): ``job``, ``user``, ``time`` (ISO-8601 UTC, ``Z``),
``what`` (the ledger's kind code), ``charged`` and ``possibly_billed`` (currency units with three
decimals, from millidollars, exact). The header names are column identifiers, the same in every
language. Each part starts with the header, so every file opens on its own; parts are UTF-8,
RFC 4180 (``\\r\\n`` line ends), and never larger than ``max_bytes``.

Rows come from an async iterator and are pulled only as parts are taken: one part is in memory
at a time, so a month of 100,000 entries costs at most one part of memory, not the month.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import AsyncIterable, AsyncIterator
from dataclasses import dataclass

HEADER = ("job", "user", "time", "what", "charged", "possibly_billed")

DISCORD_UPLOAD_BYTES = 10 * 1024 * 1024
"""Discord's attachment limit for a server without boosts."""
UPLOAD_OVERHEAD_BYTES = 64 * 1024
"""Room left for the multipart envelope and the message itself."""
DEFAULT_PART_BYTES = DISCORD_UPLOAD_BYTES - UPLOAD_OVERHEAD_BYTES

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


@dataclass(frozen=True)
class LedgerLine:
    """One ledger entry as exported."""

    job: int | str
    """The job id (or a refund/adjustment reference)."""
    user: int | str
    """The member id, or the anonymised token a purge left."""
    at: dt.datetime
    """When it was recorded (aware)."""
    what: str
    """The ledger's kind code (e.g. ``charge``, ``refund``)."""
    charged_milli: int
    """What our ledger charged, in millidollars."""
    possibly_billed_milli: int
    """What the provider may have billed, in millidollars."""


@dataclass(frozen=True)
class CsvPart:
    """One file of the export."""

    number: int
    """1-based."""
    data: bytes
    rows: int
    """Ledger rows in this part (the header not counted)."""
    charged_milli: int
    possibly_billed_milli: int


def money(milli: int) -> str:
    """Millidollars as a decimal string with three places, exactly (no float)."""
    sign = "-" if milli < 0 else ""
    whole, frac = divmod(abs(milli), 1000)
    return f"{sign}{whole}.{frac:03d}"


def iso_utc(at: dt.datetime) -> str:
    if at.tzinfo is None:
        raise ValueError("naive datetime")
    return at.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _cell(value: int | str) -> str:
    """Text cells that a spreadsheet would run as a formula are quoted with a leading ``'``."""
    text = str(value)
    if isinstance(value, str) and text.startswith(_FORMULA_START):
        return "'" + text
    return text


class _Encoder:
    def __init__(self) -> None:
        self._buffer = io.StringIO()
        self._writer = csv.writer(self._buffer, lineterminator="\r\n")

    def line(self, cells: tuple[str, ...]) -> bytes:
        self._buffer.seek(0)
        self._buffer.truncate()
        self._writer.writerow(cells)
        return self._buffer.getvalue().encode()

    def row(self, entry: LedgerLine) -> bytes:
        return self.line(
            (
                _cell(entry.job),
                _cell(entry.user),
                iso_utc(entry.at),
                _cell(entry.what),
                money(entry.charged_milli),
                money(entry.possibly_billed_milli),
            )
        )


async def csv_parts(
    rows: AsyncIterable[LedgerLine], *, max_bytes: int = DEFAULT_PART_BYTES
) -> AsyncIterator[CsvPart]:
    """The export, part by part. An empty ledger gives one part with the header only.
    ``ValueError`` if ``max_bytes`` cannot hold the header and one row."""
    encoder = _Encoder()
    header = encoder.line(HEADER)
    buffer = bytearray(header)
    count = charged = billed = 0
    number = 1
    async for entry in rows:
        line = encoder.row(entry)
        if len(header) + len(line) > max_bytes:
            raise ValueError(max_bytes)
        if len(buffer) + len(line) > max_bytes:
            yield CsvPart(number, bytes(buffer), count, charged, billed)
            number += 1
            del buffer[len(header) :]
            count = charged = billed = 0
        buffer += line
        count += 1
        charged += entry.charged_milli
        billed += entry.possibly_billed_milli
    if count or number == 1:
        yield CsvPart(number, bytes(buffer), count, charged, billed)
