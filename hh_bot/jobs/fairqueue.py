"""Fair order for queued jobs: round-robin across users, so one user's burst can't starve others.

Pure functions over job records; the store keeps the bookkeeping (when each user was last
served, ``hh_bot/store/dispatch.py``) and asks these what to start next and where each queued
job stands, for every process sharing it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from hh_bot.jobs.model import Job


def fair_order(queued: Sequence[Job], last_served: Mapping[int, float]) -> list[Job]:
    """Queued jobs in the order they will start: users in turn, least recently served first."""
    by_user: dict[int, list[Job]] = {}
    for job in sorted(queued, key=lambda j: (j.created_at, j.id)):
        by_user.setdefault(job.user_id, []).append(job)
    users = sorted(
        by_user, key=lambda u: (last_served.get(u, float("-inf")), by_user[u][0].created_at)
    )
    order: list[Job] = []
    rounds = max((len(jobs) for jobs in by_user.values()), default=0)
    for i in range(rounds):
        order.extend(by_user[u][i] for u in users if i < len(by_user[u]))
    return order


def next_to_start(
    queued: Sequence[Job],
    last_served: Mapping[int, float],
    active_per_user: Mapping[int, int],
    per_user_cap: int,
) -> Job | None:
    """The first job in fair order whose owner is below the per-user concurrency cap."""
    for job in fair_order(queued, last_served):
        if active_per_user.get(job.user_id, 0) < per_user_cap:
            return job
    return None
