"""``make bench``, chart phase: how long the server's monthly usage chart takes to render.

A month of 10,000 jobs by 400 members (a few heavy spenders, a long tail, like a real
community), daily and monthly limits set, top 8 stacked: the chart ``/hh-admin usage``
attaches. Rendered after ``warm_up`` (the bot warms up at start), several times; the median is
the figure (goal: under 1 s); the median CPU time beside it shows how much of that was
waiting for a busy machine.

    python -m bench.charts              # this phase alone, prints its JSON
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import random
import statistics
import sys
import time
from typing import Any

from hh_bot.reports.charts import ChartText, SpendRow, server_month_png, warm_up

GOAL_S = 1.0
MONTH = dt.date(2026, 11, 1)
TEXT = ChartText(
    title="Spend this month",
    x_label="day",
    y_label="USD",
    month_total="month so far",
    daily_limit="daily limit",
    monthly_limit="monthly limit",
    others="others",
    month_axis="month",
)


def month_of_jobs(jobs: int, users: int, seed: int = 2026) -> list[SpendRow]:
    """``jobs`` ledger rows over November, members weighted by a Pareto law."""
    rng = random.Random(seed)
    weights = [rng.paretovariate(1.2) for _ in range(users)]
    members = rng.choices(range(1, users + 1), weights=weights, k=jobs)
    return [
        (MONTH.replace(day=rng.randint(1, 30)), member, rng.choice((300, 600, 900, 1500, 3000)))
        for member in members
    ]


def phase(jobs: int = 10_000, users: int = 400, renders: int = 7) -> dict[str, Any]:
    """The chart figures for the results JSON."""
    rows = month_of_jobs(jobs, users)
    names = {u: f"member {u}" for u in range(1, users + 1)}
    started = time.perf_counter()
    warm_up()
    warm_s = time.perf_counter() - started
    times, cpu = [], []
    size = 0
    for _ in range(renders):
        started, cpu_started = time.perf_counter(), time.process_time()
        png = server_month_png(
            rows, month=MONTH, text=TEXT, names=names,
            daily_limit_milli=300_000, monthly_limit_milli=6_000_000,
        )  # fmt: skip
        times.append(time.perf_counter() - started)
        cpu.append(time.process_time() - cpu_started)
        size = len(png)
    median = statistics.median(times)
    return {
        "jobs": jobs,
        "users": users,
        "renders": renders,
        "render_s_median": round(median, 4),
        "render_s": [round(t, 4) for t in times],
        "render_cpu_s_median": round(statistics.median(cpu), 4),
        "warm_up_s": round(warm_s, 4),
        "png_bytes": size,
        "goal_s": GOAL_S,
    }


def goal(figures: dict[str, Any]) -> dict[str, Any]:
    """The entry for the results' ``goals`` table."""
    value = figures["render_s_median"]
    return {"target": f"< {GOAL_S:g} s", "value": value, "met": value < GOAL_S}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--jobs", type=int, default=10_000)
    p.add_argument("--users", type=int, default=400)
    p.add_argument("--renders", type=int, default=7)
    args = p.parse_args(argv)
    figures = phase(args.jobs, args.users, args.renders)
    print(json.dumps(figures | {"goal": goal(figures)}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
