"""``make bench``: ours and the naive baseline, side by side, under one workload.

    python -m bench.run                 # the full run (a few minutes), updates docs/performance.md
    python -m bench.run --smoke --out /tmp/b --no-docs   # seconds; what tests/test_bench_smoke runs
    python -m bench.charts              # the usage-chart phase alone
    python -m bench.run --only transcode    # just the transcode phase (bench/transcode.py)
    python -m bench.run --only scale        # just the scale-out phases (bench/scale.py)

See ``bench.phases`` for the phases and docs/performance.md for the method.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

from bench import charts, poll_curve, report, scale, scale_report, transcode
from bench.bots import BASELINE, FLOOR, OURS
from bench.metrics import PhaseFigures
from bench.phases import BenchConfig, ack_rounds, load_and_burst

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
DOCS = ROOT / "docs" / "performance.md"
CHART = ROOT / "docs" / "performance-polls-vs-lag.png"

SMOKE = BenchConfig(
    factor=200.0,
    users=4,
    burst_users=3,
    arrival_window=10.0,
    video_mb=0.25,
    users_per_channel=2,
    ack_rounds=(("1", 1), ("50", 3), ("200", 6)),
    ack_singles=3,
    ack_fresh_process=False,
)

Figures = tuple[dict[str, list[float | None]], PhaseFigures, PhaseFigures]


async def run_bench(
    cfg: BenchConfig, workdir: Path, chart_renders: int = 7, smoke: bool = False
) -> dict[str, Any]:
    started = time.monotonic()
    figures: dict[str, Figures] = {}
    for spec in (OURS, BASELINE):
        print(
            f"[{time.monotonic() - started:5.0f} s] {spec.name}: acknowledgement rounds", flush=True
        )
        acks = await ack_rounds(spec, cfg, workdir / spec.name)
        print(f"[{time.monotonic() - started:5.0f} s] {spec.name}: load and burst", flush=True)
        load, burst = await load_and_burst(spec, cfg, workdir / spec.name)
        figures[spec.name] = (acks, load, burst)
    print(f"[{time.monotonic() - started:5.0f} s] floor: acknowledgement rounds", flush=True)
    floor = await ack_rounds(FLOOR, cfg, workdir / FLOOR.name)
    print(f"[{time.monotonic() - started:5.0f} s] usage chart: a month of 10,000 jobs", flush=True)
    chart = charts.phase(renders=chart_renders)
    print(f"[{time.monotonic() - started:5.0f} s] transcode", flush=True)
    clips, idle = transcode.sizes(smoke=smoke)
    fits = await transcode.run_phase(clips, workdir / "transcode", idle)
    result = report.build(cfg, figures, floor, time.monotonic() - started)
    result["charts"] = chart
    result["goals"]["usage_chart"] = charts.goal(chart)
    result["transcode"] = fits
    print(f"[{time.monotonic() - started:5.0f} s] scale-out: processes on PostgreSQL", flush=True)
    result["scale_out"] = await scale.run_phases(
        scale.SMOKE if smoke else scale.ScaleConfig(), workdir / "scale"
    )
    result["goals"].update(scale_report.goals(result["scale_out"]))
    return result


def transcode_only(args: argparse.Namespace) -> int:
    clips, idle = transcode.sizes(smoke=args.smoke)
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="hh-bench-") as tmp:
        workdir = args.workdir or Path(tmp)
        fits = asyncio.run(transcode.run_phase(clips, workdir / "transcode", idle))
    data = transcode.result(fits, time.monotonic() - started)
    print(transcode.table(fits))
    print(f"\nJSON: {transcode.write_json(data, args.out)}")
    return 0


def scale_only(args: argparse.Namespace) -> int:
    cfg = scale.SMOKE if args.smoke else scale.ScaleConfig()
    with tempfile.TemporaryDirectory(prefix="hh-bench-") as tmp:
        data = asyncio.run(scale.run_phases(cfg, (args.workdir or Path(tmp)) / "scale"))
    data["goals"] = scale_report.goals(data)
    args.out.mkdir(parents=True, exist_ok=True)
    text = json.dumps(data, indent=2) + "\n"
    stamp = time.strftime("%Y%m%d-%H%M%S", time.gmtime())
    (args.out / f"scale-{stamp}.json").write_text(text)
    path = args.out / "scale-latest.json"
    path.write_text(text)
    print(scale_report.table(data))
    if not args.no_docs:
        scale_report.update_docs(data, DOCS)
    print(f"\nJSON: {path}")
    return 0


def parse(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--smoke", action="store_true", help="a few users, high compression")
    p.add_argument("--factor", type=float, help="time compression (virtual ÷ real)")
    p.add_argument("--users", type=int, help="load-phase users (the burst uses as many)")
    p.add_argument("--out", type=Path, default=RESULTS, help="where the JSON goes")
    p.add_argument("--no-docs", action="store_true", help="leave docs/performance.md alone")
    p.add_argument("--workdir", type=Path, help="keep bot logs and databases here")
    p.add_argument(
        "--only", choices=("all", "transcode", "scale"), default="all", help="run just one phase"
    )
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse(argv)
    if args.only == "transcode":
        return transcode_only(args)
    if args.only == "scale":
        return scale_only(args)
    cfg = SMOKE if args.smoke else BenchConfig()
    if args.factor:
        cfg = replace(cfg, factor=args.factor)
    if args.users:
        cfg = replace(cfg, users=args.users, burst_users=args.users)
    with tempfile.TemporaryDirectory(prefix="hh-bench-") as tmp:
        workdir = args.workdir or Path(tmp)
        result = asyncio.run(
            run_bench(cfg, workdir, chart_renders=2 if args.smoke else 7, smoke=args.smoke)
        )
    latest = report.write_json(result, args.out)
    print()
    print(report.table(result))
    print()
    print(report.goals_table(result))
    print()
    print(poll_curve.table(result["poll_curve"]))
    print(transcode.table(result["transcode"]))
    print(f"\nJSON: {latest}")
    if not args.no_docs:
        report.chart(result, CHART)
        report.update_docs(result, DOCS, CHART.name)
        scale_report.update_docs(result["scale_out"], DOCS)
        print(f"docs: {DOCS.relative_to(ROOT)}, chart: {CHART.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
