"""House rules that can drift silently: the core stays free of discord, docs stay true."""

from __future__ import annotations

import ast
import os
import re
import subprocess
import sys
from pathlib import Path

from hh_bot.config import load_settings

ROOT = Path(__file__).resolve().parent.parent


def test_core_imports_nothing_from_discord() -> None:
    offenders = []
    for path in sorted((ROOT / "hh_bot").rglob("*.py")):
        tree = ast.parse(path.read_text(), filename=str(path))
        for node in ast.walk(tree):
            names = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            offenders += [
                f"{path.name}: {n}" for n in names if n.split(".")[0] in ("discord", "cogs")
            ]
    assert offenders == []


def _imports(path: Path) -> list[str]:
    names: list[str] = []
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            names += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.append(node.module)
    return names


def test_the_backends_stay_inside_the_store_package() -> None:
    """Outside ``hh_bot/store/`` the core knows the store by its protocol and its factory only:
    no backend module, no database driver."""
    allowed = {
        "hh_bot.store.interface",
        "hh_bot.store.factory",
        "hh_bot.store.url",
        "hh_bot.store.errors",
    }
    drivers = {"asyncpg", "aiosqlite", "sqlite3"}
    offenders = []
    for path in [*sorted((ROOT / "hh_bot").rglob("*.py")), *sorted((ROOT / "cogs").rglob("*.py"))]:
        if (ROOT / "hh_bot" / "store") in path.parents:
            continue
        offenders += [
            f"{path.relative_to(ROOT)}: {name}"
            for name in _imports(path)
            if name.split(".")[0] in drivers
            or (name.startswith("hh_bot.store.") and name not in allowed)
        ]
    assert offenders == []


def test_readme_starts_with_make_run_and_make_test() -> None:
    block = re.search(r"```sh\n(.*?)```", (ROOT / "README.md").read_text(), re.S)
    assert block is not None
    commands = [line.split("#")[0].strip() for line in block.group(1).splitlines()]
    assert commands[:2] == ["make run", "make test"]


class RecordingEnv(dict[str, str]):
    def __init__(self) -> None:
        super().__init__(DISCORD_TOKEN="x" * 10, APIYI_API_KEY="y" * 10)
        self.asked: set[str] = set()

    def get(self, key: str, default: object = None) -> object:  # type: ignore[override]
        self.asked.add(key)
        return super().get(key, default)


def test_env_example_documents_every_key_with_a_comment() -> None:
    env = RecordingEnv()
    load_settings(env)
    lines = (ROOT / ".env.example").read_text().splitlines()
    documented = {}
    for i, line in enumerate(lines):
        if re.match(r"^[A-Z0-9_]+=", line):
            documented[line.split("=")[0]] = lines[i - 1].startswith("# ")
    assert env.asked == set(documented), "keys read vs documented differ"
    assert all(documented.values()), "every key needs a comment line above it"
    assert load_settings(
        {
            k: v or "1"
            for k, v in (line.split("=", 1) for line in lines if re.match(r"^[A-Z]", line))
        }
        | {"DEV_GUILD_ID": "", "ADMIN_ROLE_ID": "", "SHARD_COUNT": "", "SHARD_IDS": ""}
    ), ".env.example's own values must load"


def test_start_without_env_names_the_missing_key(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DISCORD_", "APIYI_"))}
    env["PYTHONPATH"] = str(ROOT)
    result = subprocess.run(
        [sys.executable, str(ROOT / "bot.py")], cwd=tmp_path, env=env,
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "hh-bot: configuration error: DISCORD_TOKEN is missing: set it in .env (see .env.example)"
    ]


def _core_modules() -> list[Path]:
    return sorted((ROOT / "hh_bot").rglob("*.py"))


def test_module_names_say_what_they_hold() -> None:
    """No module named after a famous package (``requests``) and no ``service`` beside
    ``services``: a name is found once, and means one thing."""
    stems = [p.stem for p in _core_modules()]
    assert not {"requests", "service", "services", "utils", "helpers"} & set(stems)


def test_settings_is_one_class() -> None:
    """``Settings`` is the process configuration; a request's parameters are ``GenParams``."""
    owners = []
    for path in _core_modules() + sorted((ROOT / "cogs").rglob("*.py")):
        tree = ast.parse(path.read_text(), filename=str(path))
        owners += [
            path.relative_to(ROOT).as_posix()
            for node in ast.walk(tree)
            if isinstance(node, ast.ClassDef) and node.name == "Settings"
        ]
    assert owners == ["hh_bot/config.py"]


def test_docstrings_name_modules_that_exist() -> None:
    """A ``name.py`` quoted in the code's docs names a file of the project (a stale name after a
    move sends a reader nowhere)."""
    files = {p.name for p in ROOT.rglob("*.py") if ".venv" not in p.parts}
    paths = {p.relative_to(ROOT).as_posix() for p in ROOT.rglob("*.py") if ".venv" not in p.parts}
    stale = []
    for path in _core_modules() + sorted((ROOT / "cogs").rglob("*.py")) + [ROOT / "bot.py"]:
        for name in re.findall(r"``([\w/]+\.py)``", path.read_text()):
            if name not in files and name not in paths:
                stale.append(f"{path.name}: {name}")
    assert stale == []


async def test_the_jobs_table_has_the_columns_of_the_row_mapping(tmp_path: Path) -> None:
    """The column order lives in ``rows.JOB_FIELDS`` only; the migrated table must agree (with
    the lease columns besides, which a ``Job`` does not carry: ``leases.py``)."""
    from hh_bot.store.leases import LEASE_COLUMNS
    from hh_bot.store.rows import INSERT_JOB, JOB_FIELDS, UPDATE_JOB
    from hh_bot.store.sqlite import SqliteStore

    store = await SqliteStore.open(tmp_path / "db.sqlite3")
    try:
        async with store._db.execute("PRAGMA table_info(jobs)") as cur:
            columns = [row[1] for row in await cur.fetchall()]
    finally:
        await store.close()
    assert sorted(columns) == sorted((*JOB_FIELDS, *LEASE_COLUMNS))
    assert INSERT_JOB.count("?") == len(JOB_FIELDS)
    assert UPDATE_JOB.count("?") == len(JOB_FIELDS)
