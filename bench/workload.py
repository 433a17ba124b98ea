"""What the simulated users ask for and how long the API takes to answer them.

The task-duration model follows the API facts (``/work/shared/spec/happyhorse-api.md``): about
115 s for 720P/5 s (105–125 s measured), longer for longer and 1080P videos, 1–5 minutes overall.
Around that sits log-normal noise plus a few fast and slow outliers (a warm cache, an upstream
queue), clipped to 40 s … 5 min. It is deliberately *not* the poll planner's prior: the planner
has to cope with a reality it was not told about exactly.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass

BASE_720P_5S = 115.0
PER_SECOND = 0.07  # +7 % per second of video above 5 s
HD_FACTOR = 1.5  # 1080P takes half as long again
NOISE_SIGMA = 0.10
FAST_SHARE, FAST_FACTOR = 0.05, 0.45
SLOW_SHARE, SLOW_FACTOR = 0.05, 1.6
SHORTEST, LONGEST = 40.0, 300.0

# (resolution, duration) → share of requests
MIX: tuple[tuple[str, int, float], ...] = (
    ("720P", 5, 0.50),
    ("720P", 3, 0.10),
    ("720P", 10, 0.15),
    ("720P", 15, 0.03),
    ("1080P", 5, 0.12),
    ("1080P", 10, 0.08),
    ("1080P", 15, 0.02),
)


def typical_seconds(resolution: str, duration: int) -> float:
    """The noise-free task duration for a request."""
    seconds = BASE_720P_5S * (1.0 + PER_SECOND * (duration - 5))
    return seconds * (HD_FACTOR if resolution == "1080P" else 1.0)


def task_seconds(resolution: str, duration: int, rng: random.Random) -> float:
    """One task's duration: typical × log-normal noise, with rare fast/slow outliers."""
    seconds = typical_seconds(resolution, duration) * math.exp(rng.gauss(0.0, NOISE_SIGMA))
    roll = rng.random()
    if roll < FAST_SHARE:
        seconds *= FAST_FACTOR
    elif roll < FAST_SHARE + SLOW_SHARE:
        seconds *= SLOW_FACTOR
    return min(LONGEST, max(SHORTEST, seconds))


@dataclass(frozen=True)
class JobSpec:
    """One simulated user's request and how the fake API will treat it."""

    tag: str  # unique, carried in the prompt so the API side can be matched to the user
    user_index: int
    resolution: str
    duration: int
    task_seconds: float
    arrival: float  # virtual seconds after the phase starts

    @property
    def prompt(self) -> str:
        return f"[{self.tag}] character1 rides a horse along a sunset beach, slow pan"


def pick_params(rng: random.Random) -> tuple[str, int]:
    roll, acc = rng.random(), 0.0
    for resolution, duration, share in MIX:
        acc += share
        if roll < acc:
            return resolution, duration
    return MIX[0][0], MIX[0][1]


def load_jobs(users: int, arrival_window: float, seed: int, prefix: str = "load") -> list[JobSpec]:
    """``users`` requests, one per user, arriving uniformly within ``arrival_window``."""
    rng = random.Random(seed)
    jobs = []
    for i in range(users):
        resolution, duration = pick_params(rng)
        jobs.append(
            JobSpec(
                tag=f"{prefix}-{i}",
                user_index=i,
                resolution=resolution,
                duration=duration,
                task_seconds=task_seconds(resolution, duration, rng),
                arrival=rng.uniform(0.0, arrival_window),
            )
        )
    return sorted(jobs, key=lambda j: j.arrival)


def burst_jobs(users: int, seed: int, prefix: str = "burst") -> list[JobSpec]:
    """``users`` 720P/5 s requests at once whose tasks all finish within a few seconds."""
    rng = random.Random(seed)
    typical = typical_seconds("720P", 5)
    return [
        JobSpec(f"{prefix}-{i}", i, "720P", 5, typical + rng.uniform(-1.0, 1.0), 0.0)
        for i in range(users)
    ]


def median(values: list[float]) -> float:
    ordered = sorted(values)
    n = len(ordered)
    if n == 0:
        return math.nan
    mid = n // 2
    return ordered[mid] if n % 2 else (ordered[mid - 1] + ordered[mid]) / 2
