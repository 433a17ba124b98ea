"""``python -m bench.run --only transcode --smoke``: the transcode phase cannot rot. Asserts
the shape of what it writes and that a fit really ran, never performance numbers."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bench import run


def test_transcode_phase_alone_writes_its_own_json(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # ffmpeg at the test's own priority (the bot's settings, read from the environment): the
    # default idle class would be starved by the busy loops of tests.cpu_load
    monkeypatch.setenv("TRANSCODE_NICENESS", "0")
    monkeypatch.setenv("TRANSCODE_IDLE", "false")
    out = tmp_path / "results"
    args = ["--only", "transcode", "--smoke", "--out", str(out), "--workdir", str(tmp_path)]
    assert run.main(args) == 0
    assert not (out / "latest.json").exists()  # the full run's figures are left alone
    data = json.loads((out / "transcode-latest.json").read_text())
    figures = data["transcode"]
    [both] = figures["clips"].values()
    fit, link = both["transcode"], both["link_only"]
    assert fit["transcoded"] and fit["output_mib"] <= fit["target_mib"]
    assert fit["duration_error_s"] <= 0.2
    for row in (fit, link):
        assert row["seconds"] > 0 and row["peak_rss_mb"] > 0
    assert isinstance(figures["transcode_loop_stall_max_ms"], float)
    assert isinstance(figures["transcode_loop_stall_idle_max_ms"], float)
    assert isinstance(figures["transcode_loop_busy_max_ms"], float)
    assert figures["transcode_left_in_tmp"] == []
    assert (figures["transcode_niceness"], figures["transcode_idle_scheduling"]) == (0, False)
    assert len(list(out.glob("transcode-2*.json"))) == 1
