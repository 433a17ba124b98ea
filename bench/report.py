"""Turn both bots' figures into the side-by-side result: JSON, a table, a chart, the docs page."""

from __future__ import annotations

import datetime as dt
import json
import math
import os
import platform
import re
from dataclasses import asdict
from pathlib import Path
from typing import Any

from bench import poll_curve
from bench.metrics import PhaseFigures, ack_summary
from bench.phases import BenchConfig
from bench.workload import MIX, NOISE_SIGMA

DOCS_START = "<!-- bench:results:start -->"
DOCS_END = "<!-- bench:results:end -->"

# (key, label, unit, lower is better)
ROWS: tuple[tuple[str, str, str], ...] = (
    ("polls_per_task", "polls per task", ""),
    ("mean_poll_gap_s", "mean gap between a task's polls", "s"),
    ("delivery_lag_p50_s", "delivery lag p50", "s"),
    ("delivery_lag_p95_s", "delivery lag p95", "s"),
    ("delivery_lag_max_s", "delivery lag max", "s"),
    ("detect_lag_p50_s", "  of which waiting for the poll, p50", "s"),
    ("detect_lag_p95_s", "  of which waiting for the poll, p95", "s"),
    ("poll_cap", "poll cap: polls of a task running to the 20-min deadline", ""),
    ("ack_p50_ms_1", "ack p50, 1 command", "ms"),
    ("ack_p99_ms_1", "ack p99, 1 command", "ms"),
    ("ack_p50_ms_50", "ack p50, 50 at once", "ms"),
    ("ack_p99_ms_50", "ack p99, 50 at once", "ms"),
    ("ack_p50_ms_200", "ack p50, 200 at once", "ms"),
    ("ack_p99_ms_200", "ack p99, 200 at once", "ms"),
    ("edits_per_job", "Discord edits per job", ""),
    ("discord_requests_per_job", "Discord requests per job", ""),
    ("load_429s", "Discord 429s, load", ""),
    ("burst_429s", "Discord 429s, burst", ""),
    ("peak_rss_mb", "peak RSS, 100 × 8 MB deliveries", "MB"),
    ("cpu_s_per_job", "CPU seconds per job (load)", "s"),
    ("burst_cpu_s_per_job", "CPU seconds per job (burst)", "s"),
)


def bot_result(
    ack: dict[str, list[float | None]], load: PhaseFigures, burst: PhaseFigures
) -> dict[str, Any]:
    main = load.summary()
    spike = burst.summary()
    out = dict(main)
    out |= ack_summary(ack)
    out["load_peak_rss_mb"] = main["peak_rss_mb"]
    out["burst_peak_rss_mb"] = spike["peak_rss_mb"]
    out["peak_rss_mb"] = max(main["peak_rss_mb"] or 0.0, spike["peak_rss_mb"] or 0.0)
    out["load_429s"] = main["discord_429s"]
    out["burst_429s"] = spike["discord_429s"]
    out["discord_429s"] = main["discord_429s"] + spike["discord_429s"]
    out["burst_delivered"] = spike["delivered"]
    out["burst_delivered_untimed"] = spike["delivered_untimed"]
    out["burst_cpu_s_per_job"] = spike["cpu_s_per_job"]
    out["burst_delivery_lag_p50_s"] = spike["delivery_lag_p50_s"]
    out["burst_polls_per_task"] = spike["polls_per_task"]
    out["load_wall_s"] = round(load.wall_seconds, 1)
    out["burst_wall_s"] = round(burst.wall_seconds, 1)
    return out


def workload(cfg: BenchConfig, seconds: float) -> dict[str, Any]:
    return {
        "clock_factor": cfg.factor,
        "load_users": cfg.users,
        "arrival_window_s": cfg.arrival_window,
        "burst_users": cfg.burst_users,
        "video_mb": cfg.video_mb,
        "task_seconds": "115 s for 720P/5 s, +7 %/s of video, ×1.5 for 1080P; log-normal "
        f"noise σ={NOISE_SIGMA}; 5 % fast (×0.45), 5 % slow (×1.6); clipped to 40–300 s",
        "mix": {f"{r}/{d}s": share for r, d, share in MIX},
        "ack_rounds": {label: k for label, k in cfg.ack_rounds},
        "ack_samples": f"k=1: {cfg.ack_singles} commands one at a time; k>1: "
        f"{cfg.ack_repeats} fresh processes, latencies pooled",
        "ack_fresh_process": cfg.ack_fresh_process,
        "channels": f"{cfg.users_per_channel} users per text channel",
        "discord_rate_limit": f"{cfg.rate_limit} message sends/edits per {cfg.rate_window:g} s "
        "per channel (virtual time), shared by all routes; acks and ephemeral edits exempt",
        "baseline": "bench/naive_bot.py: 5 s polling, edit on every poll, resp.read(), no queue, "
        "no deadline (its poll cap counts the polls of the same 20 minutes)",
        "ours": "bot.py via tests/launch_bot.py; GLOBAL_ACTIVE_TASKS=100, no money limits",
        "seed": cfg.seed,
        "runtime_s": round(seconds, 1),
        "machine": f"{platform.system()} {platform.machine()}, {os.cpu_count()} CPUs, "
        f"Python {platform.python_version()}",
    }


def ratio(a: Any, b: Any) -> float | None:
    if not isinstance(a, int | float) or not isinstance(b, int | float) or b == 0:
        return None
    return round(a / b, 3)


def goals(ours: dict[str, Any], base: dict[str, Any]) -> dict[str, Any]:
    def goal(target: str, value: Any, met: bool) -> dict[str, Any]:
        return {"target": target, "value": value, "met": bool(met)}

    polls = ratio(ours["polls_per_task"], base["polls_per_task"])
    lag, base_lag = ours["delivery_lag_p50_s"], base["delivery_lag_p50_s"]
    p95, base_p95 = ours["delivery_lag_p95_s"], base["delivery_lag_p95_s"]
    cap = ours.get("poll_cap")
    return {
        "polls": goal("≤ 0.5 × baseline", polls, polls is not None and polls <= 0.5),
        "median_lag": goal(
            f"≤ baseline ({base_lag} s)",
            lag,
            lag is not None and base_lag is not None and lag <= base_lag,
        ),
        "p95_lag": goal(
            f"≤ baseline ({base_p95} s)",
            p95,
            p95 is not None and base_p95 is not None and p95 <= base_p95,
        ),
        "poll_cap": goal("≤ 60 polls to the deadline", cap, cap is not None and cap <= 60),
        "ack_p99_200": goal(
            "≤ 100 ms", ours["ack_p99_ms_200"], (ours["ack_p99_ms_200"] or 1e9) <= 100
        ),
        "peak_rss": goal("≤ 150 MB", ours["peak_rss_mb"], ours["peak_rss_mb"] <= 150),
        "edits": goal(
            "≤ one per interval + state changes, every job",
            ours["jobs_over_edit_bound"],
            ours["jobs_over_edit_bound"] == 0,
        ),
        "no_429s": goal("0", ours["discord_429s"], ours["discord_429s"] == 0),
    }


def build(
    cfg: BenchConfig,
    figures: dict[str, tuple[dict[str, list[float | None]], PhaseFigures, PhaseFigures]],
    floor: dict[str, list[float | None]],
    seconds: float,
) -> dict[str, Any]:
    ours = bot_result(*figures["ours"])
    base = bot_result(*figures["baseline"])
    ours["poll_cap"] = poll_curve.bot_poll_cap()
    base["poll_cap"] = poll_curve.baseline_poll_cap()
    keys = [key for key, _, _ in ROWS]
    return {
        "generated_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "workload": workload(cfg, seconds),
        "ours": ours,
        "baseline": base,
        "ratio_ours_to_baseline": {k: ratio(ours.get(k), base.get(k)) for k in keys},
        "floor": ack_summary(floor),  # a bot that only defers: discord.py's own cost
        "goals": goals(ours, base),
        # polls against lag for a few planner settings, replayed on the load phase's tasks
        "poll_curve": poll_curve.curve(cfg.users, cfg.arrival_window, cfg.seed),
        "per_task": {
            name: [asdict(j) for j in figures[name][1].jobs] for name in ("ours", "baseline")
        },
    }


def _fmt(value: Any) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    if isinstance(value, float):
        return f"{value:.3g}" if abs(value) < 1 else f"{value:,.1f}"
    return str(value)


def table(result: dict[str, Any]) -> str:
    ours, base, ratios = result["ours"], result["baseline"], result["ratio_ours_to_baseline"]
    lines = ["| figure | ours | baseline | ours ÷ baseline |", "|---|---:|---:|---:|"]
    for key, label, unit in ROWS:
        suffix = f" {unit}" if unit else ""
        lines.append(
            f"| {label} | {_fmt(ours.get(key))}{suffix} | {_fmt(base.get(key))}{suffix} "
            f"| {_fmt(ratios.get(key))} |"
        )
    floor = result.get("floor") or {}
    lines.append(
        f"| ack p50 / p99, 200 at once, a bot that only defers | "
        f"{_fmt(floor.get('ack_p50_ms_200'))} / {_fmt(floor.get('ack_p99_ms_200'))} ms | | |"
    )
    lines.append(
        f"| delivered (load / burst) | {ours['delivered']}/{ours['jobs']} · "
        f"{ours['burst_delivered']} | {base['delivered']}/{base['jobs']} · "
        f"{base['burst_delivered']} | |"
    )
    return "\n".join(lines)


def goals_table(result: dict[str, Any]) -> str:
    lines = ["| goal | target | reached | met |", "|---|---|---:|:---:|"]
    for name, g in result["goals"].items():
        lines.append(
            f"| {name} | {g['target']} | {_fmt(g['value'])} | {'✅' if g['met'] else '❌'} |"
        )
    return "\n".join(lines)


def write_json(result: dict[str, Any], out: Path) -> Path:
    out.mkdir(parents=True, exist_ok=True)
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%d-%H%M%S")
    text = json.dumps(result, indent=2, ensure_ascii=False) + "\n"
    (out / f"{stamp}.json").write_text(text)
    latest = out / "latest.json"
    latest.write_text(text)
    return latest


def chart(result: dict[str, Any], path: Path) -> Path:
    """Polls per task against delivery lag, one dot per task, medians as crosses."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7.5, 4.8), dpi=110)
    for name, colour in (("baseline", "#d95f02"), ("ours", "#1b9e77")):
        tasks = [t for t in result["per_task"][name] if t["delivery_lag"] is not None]
        xs = [t["polls"] for t in tasks]
        ys = [t["delivery_lag"] for t in tasks]
        ax.scatter(xs, ys, s=14, alpha=0.55, color=colour, label=f"{name} (one dot per task)")
        summary = result[name]
        ax.scatter(
            [summary["polls_per_task"]],
            [summary["delivery_lag_p50_s"]],
            s=160,
            marker="X",
            color=colour,
            edgecolor="black",
            label=f"{name}: mean polls, median lag",
        )
    ax.set_xlabel("polls per task")
    ax.set_ylabel("delivery lag (s, real-equivalent)")
    ax.set_title("Polls per task against delivery lag (load phase)")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path)
    plt.close(fig)
    return path


def update_docs(result: dict[str, Any], md: Path, chart_name: str) -> None:
    """Replace the results block of docs/performance.md with the latest figures."""
    w = result["workload"]
    block = "\n".join(
        [
            DOCS_START,
            f"Latest run: {result['generated_at']} on {w['machine']}, "
            f"clock ×{w['clock_factor']:g}, {w['load_users']} load users + "
            f"{w['burst_users']} burst users, "
            f"{w['video_mb']:g} MB videos, {w['runtime_s']:.0f} s in all.",
            "",
            table(result),
            "",
            goals_table(result),
            "",
            "Polls against detection lag for other planner settings, replayed on the same "
            "tasks (`bench/poll_curve.py`, simulated time, no processes):",
            "",
            poll_curve.table(result["poll_curve"]),
            "",
            f"![polls per task against delivery lag]({chart_name})",
            DOCS_END,
        ]
    )
    text = md.read_text() if md.exists() else f"{DOCS_START}\n{DOCS_END}\n"
    pattern = re.compile(re.escape(DOCS_START) + r".*?" + re.escape(DOCS_END), re.S)
    md.write_text(pattern.sub(lambda _: block, text))
