"""The migration sequence: reviewable SQL files in ``migrations/``, one sequence for both backends.

``V<n>__<name>.sql`` holds SQL both dialects run; ``V<n>__<name>.<dialect>.sql`` the variant of
one dialect where they differ (see ``migrations/README.md``). A database records the versions it
has in ``schema_version``; a backend applies the missing ones in order, each with its row in
``schema_version`` in one transaction (``apply``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from hh_bot.store.conn import Conn, Dialect, scalar

FOLDER = Path(__file__).parent / "migrations"
DIALECTS: tuple[Dialect, ...] = ("sqlite", "postgres")
_NAME = re.compile(r"^V(?P<version>\d+)__(?P<name>\w+?)(?:\.(?P<dialect>sqlite|postgres))?\.sql$")


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    statements: tuple[str, ...]


def split_statements(text: str) -> tuple[str, ...]:
    """The statements of a migration file: ``--`` comment lines dropped, split at a ``;`` that
    ends a line."""
    lines = [line for line in text.splitlines() if not line.lstrip().startswith("--")]
    body = "\n".join(lines)
    parts = re.split(r";[ \t]*(?:\n|$)", body)
    return tuple(p.strip() for p in parts if p.strip())


def migrations(dialect: Dialect, folder: Path = FOLDER) -> list[Migration]:
    """The sequence for ``dialect``, in order; refuses gaps, duplicates and half-split versions."""
    found: dict[int, dict[str | None, Path]] = {}
    for path in folder.glob("*.sql"):
        match = _NAME.match(path.name)
        if match is None:
            raise ValueError(f"migration file not named V<n>__<name>[.<dialect>].sql: {path.name}")
        variants = found.setdefault(int(match["version"]), {})
        if match["dialect"] in variants:
            raise ValueError(f"two files for migration {match['version']}: {path.name}")
        variants[match["dialect"]] = path
    sequence = []
    for version in sorted(found):
        variants = found[version]
        if None in variants and len(variants) > 1:
            raise ValueError(f"migration {version} is both shared and per dialect")
        if None not in variants and set(variants) != set(DIALECTS):
            has = sorted(d or "shared" for d in variants)
            raise ValueError(f"migration {version} lacks a dialect: has {has}")
        path = variants.get(dialect) or variants[None]
        name = _NAME.match(path.name)["name"]  # type: ignore[index]
        sequence.append(Migration(version, name, split_statements(path.read_text())))
    if [m.version for m in sequence] != list(range(1, len(sequence) + 1)):
        raise ValueError(f"migration versions must run 1..n: {[m.version for m in sequence]}")
    return sequence


async def current_version(conn: Conn) -> int:
    """The version the database is at (creating ``schema_version`` if it has none)."""
    await conn.execute("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER)")
    return int(await scalar(conn, "SELECT MAX(version) FROM schema_version") or 0)


async def apply(conn: Conn, migration: Migration) -> None:
    """Run one migration and record it; the caller holds the transaction."""
    for statement in migration.statements:
        await conn.execute(statement)
    await conn.execute("INSERT INTO schema_version VALUES (?)", (migration.version,))
