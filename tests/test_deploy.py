"""The deployment files agree with each other and with ``docs/deploy.md`` (no Docker engine
here: they are read, not run): compose's services, environment and volumes, the shard split,
and a Dockerfile that runs unprivileged and listens on nothing but the opt-in metrics port."""

from __future__ import annotations

import re
import shlex
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import yaml

from hh_bot.config import load_settings

ROOT = Path(__file__).resolve().parent.parent
COMPOSE: dict[str, Any] = yaml.safe_load((ROOT / "compose.yaml").read_text())
DEPLOY = (ROOT / "docs" / "deploy.md").read_text()
DOCKERFILE = (ROOT / "Dockerfile").read_text()
SERVICES: dict[str, dict[str, Any]] = COMPOSE["services"]
BOTS = {name: svc for name, svc in SERVICES.items() if name != "db"}


def env_of(service: dict[str, Any]) -> dict[str, str]:
    env = service.get("environment") or {}
    if isinstance(env, list):  # the "KEY=value" spelling
        env = dict(item.split("=", 1) for item in env)
    return {str(k): str(v) for k, v in env.items()}


def mounts(service: dict[str, Any]) -> dict[str, str]:
    """Container path → named volume (short syntax ``name:/path``)."""
    out = {}
    for spec in service.get("volumes") or []:
        source, target = str(spec).split(":")[:2]
        out[target] = source
    return out


def documented(word: str) -> bool:
    return f"`{word}" in DEPLOY


def test_every_service_env_key_and_volume_of_compose_is_in_deploy_md() -> None:
    assert set(SERVICES) == {"db", "bot-a", "bot-b"}
    missing = [f"service {n}" for n in SERVICES if not documented(n)]
    keys = {k for svc in SERVICES.values() for k in env_of(svc)}
    missing += [f"env {k}" for k in sorted(keys) if not documented(k)]
    missing += [f"volume {v}" for v in COMPOSE["volumes"] if not documented(v)]
    assert missing == []


def test_the_bots_run_the_image_on_postgresql_with_secrets_from_an_env_file() -> None:
    db = SERVICES["db"]
    assert str(db["image"]).startswith("postgres:")
    assert "pg_isready" in " ".join(db["healthcheck"]["test"])
    assert mounts(db) == {"/var/lib/postgresql/data": "pgdata"}
    assert "${POSTGRES_PASSWORD" in env_of(db)["POSTGRES_PASSWORD"]
    assert len(BOTS) == 2
    for name, bot in BOTS.items():
        assert bot["build"] == ".", name
        assert bot["env_file"] == ".env", name
        assert bot["depends_on"]["db"]["condition"] == "service_healthy", name
        url = urlsplit(env_of(bot)["DATABASE_URL"])
        assert url.scheme == "postgresql" and url.hostname == "db", name
        assert url.path.lstrip("/") == env_of(db)["POSTGRES_DB"], name
        assert url.username == env_of(db)["POSTGRES_USER"], name
        assert "${POSTGRES_PASSWORD}" in env_of(bot)["DATABASE_URL"], "no secret in the file"


def test_both_bots_share_the_archive_volume() -> None:
    archives = set()
    for name, bot in BOTS.items():
        archive_dir = env_of(bot)["ARCHIVE_DIR"]
        assert archive_dir in mounts(bot), f"{name}: ARCHIVE_DIR is not on a volume"
        archives.add(mounts(bot)[archive_dir])
    assert archives == {"archive"}
    assert "archive" in COMPOSE["volumes"]


def test_shard_ids_cover_every_shard_exactly_once() -> None:
    counts = {int(env_of(bot)["SHARD_COUNT"]) for bot in BOTS.values()}
    assert counts == {4}, "every process must agree on SHARD_COUNT"
    ids = [int(i) for bot in BOTS.values() for i in env_of(bot)["SHARD_IDS"].split(",")]
    assert sorted(ids) == list(range(4))
    assert "`SHARD_COUNT=4`" in DEPLOY and "`0,1`" in DEPLOY and "`2,3`" in DEPLOY


def test_the_bots_settings_load_and_only_the_metrics_port_is_exposed() -> None:
    for name, bot in BOTS.items():
        env = env_of(bot)
        settings = load_settings({"DISCORD_TOKEN": "t", "APIYI_API_KEY": "k", **env})
        assert settings.metrics.port == int(env["METRICS_PORT"]), name
        assert settings.metrics.host == "0.0.0.0", name
        assert [str(p) for p in bot.get("expose") or []] == [env["METRICS_PORT"]], name
        assert "ports" not in bot, f"{name}: nothing is published on the host"


def dockerfile_instructions() -> list[tuple[str, str]]:
    text = re.sub(r"\\\n", " ", DOCKERFILE)
    out = []
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            word, _, rest = line.partition(" ")
            out.append((word.upper(), rest.strip()))
    return out


def test_the_dockerfile_runs_unprivileged_and_exposes_nothing_by_default() -> None:
    steps = dockerfile_instructions()
    words = [w for w, _ in steps]
    assert steps[0] == ("FROM", "python:3.11-slim")
    assert "EXPOSE" not in words, "nothing listens unless METRICS_PORT is set"
    users = [rest for w, rest in steps if w == "USER"]
    assert users and users[-1] not in ("root", "0"), "the last USER must not be root"
    assert words.index("USER") < words.index("CMD")
    run = " ".join(rest for w, rest in steps if w == "RUN")
    assert "pip install ." in run and "[dev]" not in run
    assert steps[-1] == ("CMD", '["python", "bot.py"]')
    env = " ".join(rest for w, rest in steps if w == "ENV")
    assert "DATABASE_URL=sqlite:////data/" in env and "ARCHIVE_DIR=/data/" in env
    assert ("VOLUME", '["/data"]') in steps
    check = next(rest for w, rest in steps if w == "HEALTHCHECK")
    assert "METRICS_PORT" in check and "/healthz" in check


def test_dockerignore_keeps_secrets_and_local_data_out_of_the_image() -> None:
    ignored = (ROOT / ".dockerignore").read_text().split()
    assert {".env", ".venv", ".git", "data"} <= set(ignored)


def test_deploy_md_shows_a_systemd_unit_on_the_venv() -> None:
    unit = re.search(r"```ini\n(.*?)```", DEPLOY, re.S)
    assert unit is not None
    lines = dict(
        line.split("=", 1) for line in unit.group(1).splitlines() if re.match(r"^\w+=", line)
    )
    assert lines["Restart"] == "on-failure"
    assert {"User", "WorkingDirectory", "EnvironmentFile"} <= set(lines)
    python, script = shlex.split(lines["ExecStart"])
    assert python.endswith("/.venv/bin/python") and script == "bot.py"
    assert python.startswith(lines["WorkingDirectory"])


def test_the_readme_links_deploy_md() -> None:
    assert "(docs/deploy.md)" in (ROOT / "README.md").read_text()
