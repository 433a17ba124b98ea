"""``make bench`` in miniature, so the benchmark cannot rot: both bots, every phase, a few users,
high time compression. Asserts the shape of what it writes, never performance numbers."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from bench import poll_curve, report, run

REQUIRED = (
    "polls_per_task",
    "delivery_lag_p50_s",
    "delivery_lag_p95_s",
    "delivery_lag_max_s",
    "poll_cap",
    "ack_p99_ms_200",
    "peak_rss_mb",
    "edits_per_job",
    "discord_429s",
)


@pytest.fixture(scope="module")
def results(tmp_path_factory: pytest.TempPathFactory) -> Path:
    tmp = tmp_path_factory.mktemp("bench")
    out = tmp / "results"
    args = ["--smoke", "--out", str(out), "--no-docs", "--workdir", str(tmp / "work")]
    assert run.main(args) == 0
    return out


@pytest.fixture(scope="module")
def latest(results: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((results / "latest.json").read_text())
    return data


def test_writes_latest_and_a_timestamped_copy(results: Path, latest: dict[str, Any]) -> None:
    stamped = [p for p in results.glob("*.json") if p.name != "latest.json"]
    assert len(stamped) == 1
    assert json.loads(stamped[0].read_text()) == latest


def test_side_by_side_figures_for_both_bots(latest: dict[str, Any]) -> None:
    assert latest["workload"]["load_users"] == run.SMOKE.users
    assert latest["workload"]["ack_rounds"] == {"1": 1, "50": 3, "200": 6}
    for name in ("ours", "baseline"):
        figures = latest[name]
        for key in REQUIRED:
            assert isinstance(figures[key], int | float), (name, key, figures[key])
        assert figures["delivered"] == figures["jobs"] == run.SMOKE.users, name
        assert figures["burst_delivered"] == run.SMOKE.burst_users, name
        assert figures["ack_missed_200"] == 0, name
        assert len(latest["per_task"][name]) == run.SMOKE.users
        assert figures["polls_per_task"] >= 1
    assert set(latest["ratio_ours_to_baseline"]) >= set(REQUIRED) - {"discord_429s"}
    assert isinstance(latest["floor"]["ack_p99_ms_200"], float)
    assert set(latest["goals"]) >= {"polls", "median_lag", "p95_lag", "poll_cap", "no_429s"}
    assert latest["ours"]["poll_cap"] <= 60 < latest["baseline"]["poll_cap"]
    assert [p["label"] for p in latest["poll_curve"]["ours"]] == [
        label for label, _ in poll_curve.SETTINGS
    ]
    assert all(isinstance(g["met"], bool) for g in latest["goals"].values())
    assert latest["charts"]["jobs"] == 10_000 and latest["charts"]["users"] == 400
    assert isinstance(latest["charts"]["render_s_median"], float)
    assert "usage_chart" in latest["goals"]


def test_chart_and_docs_block(latest: dict[str, Any], tmp_path: Path) -> None:
    png = report.chart(latest, tmp_path / "chart.png")
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    md = tmp_path / "performance.md"
    md.write_text(
        f"# Performance\n\nbefore\n\n{report.DOCS_START}\nold\n{report.DOCS_END}\n\nafter\n"
    )
    report.update_docs(latest, md, "chart.png")
    text = md.read_text()
    assert "before" in text and "after" in text and "\nold\n" not in text
    assert (
        "| polls per task |" in text and "![polls per task against delivery lag](chart.png)" in text
    )
