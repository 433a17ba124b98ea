"""The scale-out phases' figures (``bench/scale.py``): goals, the Markdown table, and its block
in docs/performance.md (between its own markers, so other sections of the page stay as they
are)."""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any


def goals(result: dict[str, Any]) -> dict[str, Any]:
    """The issue's goals for scale-out, shaped as ``bench/report.py``'s (target, value, met)."""
    if "launch_day" not in result or "failover" not in result:
        return {}
    f, day = result["failover"], result["launch_day"]
    p99 = result["scale"]["scale_ack_p99_ms_200"]
    once = min(f["delivered_once"], f["charged_once"])
    return {
        "scale_ack_p99_ms_200": {
            "target": "≤ 100 ms at 2 processes",
            "value": p99,
            "met": p99 <= 100,
        },
        "failover_once": {
            "target": f"{f['jobs']} of {f['jobs']} delivered and charged once",
            "value": once,
            "met": once == f["jobs"],
        },
        "launch_day_double_charges": {
            "target": "0",
            "value": day["double_charges"],
            "met": day["double_charges"] == 0,
        },
        "launch_day_429s": {
            "target": "0",
            "value": day["discord_429s"],
            "met": day["discord_429s"] == 0,
        },
    }


DOCS_START = "<!-- bench:scale:start -->"
DOCS_END = "<!-- bench:scale:end -->"
SECTION = "## Scale-out: several processes on one PostgreSQL"


def table(result: dict[str, Any]) -> str:
    """The scale-out figures as Markdown, measured side by side in one run."""
    s, f, day = result["scale"], result.get("failover"), result.get("launch_day")
    rows = ["| processes (4 shards) | ack p50 | ack p99 | ack max |", "|---:|---:|---:|---:|"]
    for c in s["curve"]:
        rows.append(f"| {c['processes']} | {c['p50']} ms | {c['p99']} ms | {c['max']} ms |")
    out = [
        f"**Scale** — {s['commands']} /video commands pushed back to back over {s['guilds']} "
        f"guilds on {s['shards']} shards (`scale_ack_p99_ms_200` = the 2-process row):",
        "",
        *rows,
    ]
    if f is not None:
        out += [
            "",
            f"**Failover** — {f['jobs']} jobs running in one process, SIGKILLed; "
            f"`LEASE_LENGTH` {f['lease_length_s']:g} s: taken over after "
            f"**{f['failover_takeover_s']} s** (production seconds), all delivered "
            f"{f['failover_all_delivered_s']} s after the kill; delivered once "
            f"{f['delivered_once']}/{f['jobs']}, charged once {f['charged_once']}/{f['jobs']}, "
            f"creates {f['creates']}.",
        ]
    if day is not None:
        ack = day["launch_ack_ms"]
        out += [
            "",
            f"**Launch day** — {day['jobs']} jobs from {day['members']} members at once, global "
            f"cap {day['global_cap']}, {day['processes']} processes: acknowledged within "
            f"Discord's 3 s {day['acked_in_3s']}, admitted {day['admitted']}, done "
            f"{day['done']}{'' if day['all_ended_in_time'] else ' (not all ended in time)'}; "
            f"ack p50/p99 {ack['p50']}/{ack['p99']} ms; queue wait p50 "
            f"{day['launch_wait_p50_s']} s, p95 {day['launch_wait_p95_s']} s (members' first "
            f"jobs p95 {day['first_job_wait_p95_s']} s, later jobs p50 "
            f"{day['later_jobs_wait_p50_s']} s; every first job before any third: "
            f"{'yes' if day['first_jobs_before_thirds'] else 'no'}); double charges "
            f"{day['double_charges']}; Discord 429s {day['discord_429s']}; "
            f"{day['rss_per_queued_job_kb']} KB of memory and {day['cpu_ms_per_job']} ms of CPU "
            f"per queued job (both processes).",
        ]
    return "\n".join(out)


def update_docs(result: dict[str, Any], md: Path) -> None:
    """Rewrite the scale-out block of docs/performance.md (appending its section if missing)."""
    cfg = result["config"]
    block = "\n".join(
        [
            DOCS_START,
            f"Latest run: clock ×{cfg['factor']:g}, {result['runtime_s']:.0f} s in all, load "
            f"average {result['load_average_1m']} on {os.cpu_count()} CPUs.",
            "",
            table(result),
            DOCS_END,
        ]
    )
    text = md.read_text() if md.exists() else ""
    if DOCS_START not in text:
        text = text.rstrip("\n") + f"\n\n{SECTION}\n\n{DOCS_START}\n{DOCS_END}\n"
    pattern = re.compile(re.escape(DOCS_START) + r".*?" + re.escape(DOCS_END), re.S)
    md.write_text(pattern.sub(lambda _: block, text))
