"""Keep every core busy while something else runs: the check that no test depends on speed.

    python -m tests.cpu_load -- python -m pytest -x -q     # busy loops while the command runs
    python -m tests.cpu_load --repeat 5 -- python -m pytest -q   # the command five times in a row
    python -m tests.cpu_load --seconds 600                  # just the load, for ten minutes
    python -m tests.cpu_load --workers 2 -- <command>       # a given number of loops

One busy loop per core (``os.cpu_count()`` unless ``--workers`` says otherwise), each a separate
process spinning on arithmetic at normal priority, so the scheduler shares the cores between
them and the command. The loops stop when the command ends (or after ``--seconds``), also on
Ctrl-C or SIGTERM (which stop the command too). The exit status is the command's (the first
failing run's, with ``--repeat``), or 0.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import signal
import subprocess
import sys
import time
from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from multiprocessing.synchronize import Event


def spin(stop: Event) -> None:
    """Burn CPU until ``stop`` is set (checked every few milliseconds of work)."""
    x = 0
    while not stop.is_set():
        for i in range(20_000):
            x = (x * 31 + i) % 1_000_003


def _interrupt(signum: int, frame: object) -> None:
    """SIGTERM ends the load (and the command) as cleanly as Ctrl-C does."""
    raise KeyboardInterrupt


def parse(argv: Sequence[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        prog="python -m tests.cpu_load",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--workers", type=int, default=os.cpu_count() or 1, help="busy loops")
    p.add_argument("--seconds", type=float, help="without a command: how long to keep the load")
    p.add_argument("--repeat", type=int, default=1, help="run the command this many times")
    p.add_argument("command", nargs=argparse.REMAINDER, help="-- then the command to run")
    args = p.parse_args(argv)
    if args.command and args.command[0] == "--":
        args.command = args.command[1:]
    if not args.command and args.seconds is None:
        p.error("give a command after -- or --seconds")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse(argv)
    stop = multiprocessing.Event()
    loops = [
        multiprocessing.Process(target=spin, args=(stop,), daemon=True)
        for _ in range(max(1, args.workers))
    ]
    for loop in loops:
        loop.start()
    print(f"cpu_load: {len(loops)} busy loops running", file=sys.stderr, flush=True)
    status = 0
    child: subprocess.Popen[bytes] | None = None
    signal.signal(signal.SIGTERM, _interrupt)
    try:
        if args.command:
            for n in range(max(1, args.repeat)):
                started = time.monotonic()
                child = subprocess.Popen(args.command)
                code = child.wait()
                child = None
                took = time.monotonic() - started
                print(
                    f"cpu_load: run {n + 1}/{args.repeat} exited {code} after {took:.0f} s",
                    file=sys.stderr,
                    flush=True,
                )
                status = status or code
        else:
            time.sleep(args.seconds)
    except KeyboardInterrupt:
        status = status or 130
    finally:
        if child is not None and child.poll() is None:
            child.terminate()
            child.wait()
        stop.set()
        for loop in loops:
            loop.join(timeout=5)
            if loop.is_alive():
                loop.terminate()
    return status


if __name__ == "__main__":
    sys.exit(main())
