"""The health and metrics endpoint of the real bot: a /video to delivery over the fakes, then a
scrape of /metrics parsed with prometheus_client's own text parser, and /healthz before and after
the store goes away."""

from __future__ import annotations

import asyncio
import re
import socket
import subprocess
import sys
from pathlib import Path

import aiohttp
import pytest
from prometheus_client.parser import text_string_to_metric_families

from hh_bot.config import MetricsSettings, load_settings
from hh_bot.jobs.model import JobState
from hh_bot.store.interface import Store
from tests.bot_world import API_KEY, BOT_TOKEN, bot_world
from tests.fakes.discord import FakeDiscord
from tests.fakes.happyhorse import FakeHappyHorse
from tests.test_launcher import bot_env, start_bot, stop_bot
from tests.test_store import S, finish, insert, make_job
from tests.waiting import eventually

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


def parse(text: str) -> Samples:
    return {
        (s.name, frozenset(s.labels.items())): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def value(samples: Samples, name: str, **labels: str) -> float:
    return samples[(name, frozenset(labels.items()))]


def total(samples: Samples, name: str, **labels: str) -> float:
    """The sum over every sample of ``name`` whose labels include ``labels``."""
    wanted = set(labels.items())
    return sum(v for (n, ls), v in samples.items() if n == name and wanted <= ls)


async def get(port: int, path: str) -> tuple[int, str]:
    async with (
        aiohttp.ClientSession() as http,
        http.get(f"http://127.0.0.1:{port}{path}") as answer,
    ):
        return answer.status, await answer.text()


async def test_a_scrape_after_a_delivered_video_shows_the_job_the_calls_and_the_spend(
    tmp_path: Path,
) -> None:
    async with bot_world(tmp_path, metrics=MetricsSettings(port=0)) as w:
        assert w.services.metrics_server is not None
        port = w.services.metrics_server.port
        assert port
        # One progress edit answered 429: discord.py waits and retries; the trace counts it.
        w.discord.rate_limit_next("PATCH", r"/messages/@original$", retry_after=0.05)
        handle = await w.video()
        await w.outcome(handle)

        async def done() -> bool:
            job = await w.job_of(handle)
            return job.state is JobState.DONE and await w.services.store.charge_of(job.id) == (
                "committed"
            )

        await eventually(done, what="the job stored done and charged")

        status, text = await get(port, "/metrics")
        assert status == 200
        m = parse(text)
        assert value(m, "hh_jobs", state="done") == 1
        assert total(m, "hh_jobs") == 1
        assert value(m, "hh_queue_length") == 0
        assert total(m, "hh_api_call_seconds_count", call="create", outcome="ok") >= 1
        assert total(m, "hh_api_call_seconds_count", call="poll") >= 1
        assert total(m, "hh_api_call_seconds_count", call="download", outcome="ok") == 1
        assert value(m, "hh_api_polls_total") == len(w.hh.polls()) >= 1
        ledger = await w.services.store.ledger()
        charged = sum(e.amount for e in ledger if e.kind == "commit")
        assert charged > 0
        assert value(m, "hh_spend_charged_usd") == charged / 1000
        rows = await w.services.store.usage_report(None, 0.0, float("inf"))
        billed = sum(r.possibly_billed for r in rows)
        assert value(m, "hh_spend_possibly_billed_usd") == billed / 1000
        assert w.discord.rate_limited_count >= 1
        assert value(m, "hh_discord_rate_limited_total") == w.discord.rate_limited_count
        assert value(m, "hh_store_up") == 1

        status, body = await get(port, "/healthz")
        assert (status, body) == (200, '{"status": "ok", "gateway": true, "store": true}')

        await w.services.store.close()
        status, body = await get(port, "/healthz")
        assert status == 503, body
        assert '"store": false' in body and '"gateway": true' in body
        status, text = await get(port, "/metrics")  # the process's counters still served
        assert status == 200 and value(parse(text), "hh_store_up") == 0


async def test_healthz_is_503_once_the_gateway_is_gone(tmp_path: Path) -> None:
    async with bot_world(tmp_path, metrics=MetricsSettings(port=0)) as w:
        assert w.services.metrics_server is not None
        port = w.services.metrics_server.port
        assert port

        async def healthy() -> bool:
            return (await get(port, "/healthz"))[0] == 200

        await eventually(healthy, what="/healthz 200 once the bot is ready")
        await w.bot.close()
        status, body = await get(port, "/healthz")
        assert status == 503
        assert '"gateway": false' in body and '"store": true' in body


async def test_without_metrics_port_nothing_listens(tmp_path: Path) -> None:
    async with bot_world(tmp_path) as w:
        assert w.services.metrics_server is None
        assert w.bot.http.http_trace is None


def test_metrics_settings_from_the_environment() -> None:
    base = {"DISCORD_TOKEN": "t", "APIYI_API_KEY": "k"}
    assert load_settings(base).metrics == MetricsSettings(port=None, host="127.0.0.1")
    got = load_settings({**base, "METRICS_PORT": "9108", "METRICS_HOST": "0.0.0.0"}).metrics
    assert got == MetricsSettings(port=9108, host="0.0.0.0")


async def test_store_figures_count_states_and_sum_both_spends(store: Store) -> None:
    """The scrape-time query, on both backends: jobs by state, what was charged (commits) and
    what the key was possibly billed (a task that ran and failed is billed, not charged)."""
    empty = await store.figures()
    assert (empty.jobs_by_state, empty.charged, empty.possibly_billed) == ({}, 0, 0)
    done, failed, queued = make_job("a", cost=630), make_job("b", cost=1120), make_job("c")
    await insert(store, done, failed, queued)
    await store.save(finish(done, S.DONE))
    await store.save(finish(failed, S.FAILED))
    got = await store.figures()
    assert got.jobs_by_state == {"done": 1, "failed": 1, "queued": 1}
    assert got.charged == sum(e.amount for e in await store.ledger() if e.kind == "commit") == 630
    rows = await store.usage_report(None, 0.0, float("inf"))
    assert got.possibly_billed == sum(r.possibly_billed for r in rows) > 0


def test_a_taken_metrics_port_stops_the_start_with_one_line(tmp_path: Path) -> None:
    """``python bot.py`` (through the test launcher) with METRICS_PORT on a port already in use:
    one error line naming the keys, exit 1, no traceback."""
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        env = bot_env(tmp_path, "http://127.0.0.1:9", "http://127.0.0.1:9", METRICS_PORT=str(port))
        result = subprocess.run(
            [sys.executable, "-m", "tests.launch_bot"],
            cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60,
        )  # fmt: skip
    assert result.returncode == 1, result.stderr
    lines = (result.stdout + result.stderr).strip().splitlines()
    assert len(lines) == 1, lines
    assert f"cannot serve metrics on 127.0.0.1:{port} (METRICS_HOST:METRICS_PORT)" in lines[0]
    assert "Traceback" not in result.stderr


async def test_the_entry_point_serves_healthz_on_a_free_port(tmp_path: Path) -> None:
    """``python bot.py`` with METRICS_PORT=0 logs the port it took; /healthz there is 200 once
    the bot is connected, and the port is closed after SIGTERM."""
    hh = FakeHappyHorse(api_key=API_KEY)
    await hh.start()
    try:
        async with FakeDiscord(token=BOT_TOKEN) as fake:
            env = bot_env(tmp_path, fake.url, hh.base_url, METRICS_PORT="0")
            proc = await start_bot(tmp_path, env)
            try:
                assert proc.stdout is not None
                port = None
                while port is None:
                    line = (await asyncio.wait_for(proc.stdout.readline(), 30)).decode()
                    assert line, "the bot ended before serving metrics"
                    found = re.search(r"health and metrics on http://127\.0\.0\.1:(\d+)", line)
                    port = int(found.group(1)) if found else None

                async def healthy() -> bool:
                    return (await get(port, "/healthz"))[0] == 200

                await eventually(healthy, timeout=30, what="/healthz 200")
            finally:
                output = await stop_bot(proc)
            assert proc.returncode == 0, output
            with pytest.raises(aiohttp.ClientConnectionError):
                await get(port, "/healthz")
    finally:
        await hh.close()
