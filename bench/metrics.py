"""Figures read off the fakes' records after a phase: nothing is measured inside the bots.

Delivery lag, in real-equivalent seconds, is split where time compression would distort it:
the wait the bot *chooses* (task completed at the API → the poll that sees it) is virtual time,
exact under any compression; the work after that (download, upload, Discord) happens in real
time and is counted as measured. Their sum is what a user would wait in real life, with one
caveat: retry waits after a 429 are real seconds of the compressed run (see docs/performance.md).
"""

from __future__ import annotations

import math
import re
import statistics
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from bench.workload import JobSpec
from bench.world import World, tag_of
from tests.fakes.discord_interactions import FakeInteraction
from tests.fakes.discord_rest import RecordedRequest

_WEBHOOK = re.compile(r"^/(?:webhooks/\d+|interactions/\d+)/(?P<token>[^/]+)")
_CHANNEL = re.compile(r"^/channels/\d+/messages(?:/(?P<mid>\d+))?$")
_MENTION = re.compile(r"<@!?(\d+)>")


def percentile(values: list[float], p: float) -> float:
    """Linear-interpolated percentile (p in 0..100); NaN for no values."""
    if not values:
        return math.nan
    ordered = sorted(values)
    rank = (len(ordered) - 1) * p / 100.0
    low, high = math.floor(rank), math.ceil(rank)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def owner_of(w: World, rec: RecordedRequest) -> int | None:
    """The user a Discord request was made for (interaction token, message or mention)."""
    fake = w.discord
    if (m := _WEBHOOK.match(rec.path)) is not None:
        it = fake.by_token.get(m["token"])
        return None if it is None else it.user.id
    if _CHANNEL.match(rec.path) is None:
        return None
    msg = fake.messages.get(rec.message_id or 0)
    for candidate in (msg, fake.messages.get(msg.reference_id or 0) if msg else None):
        if candidate is not None and candidate.interaction_token:
            it = fake.by_token.get(candidate.interaction_token)
            if it is not None:
                return it.user.id
    content = str((rec.json or {}).get("content") or "") if isinstance(rec.json, dict) else ""
    found = _MENTION.search(content)
    return int(found.group(1)) if found else None


@dataclass
class JobFigures:
    tag: str
    polls: int
    task_seconds: float
    detect_lag: float | None  # virtual seconds from completion to the poll that saw it
    delivery_lag: float | None  # real-equivalent seconds to the video message
    delivery_lag_virtual: float | None  # the same, all in virtual time
    edits: int
    edit_bound: float | None
    poll_gap: float | None = None  # mean virtual seconds between the task's polls
    delivered: bool = False  # the user received a file (whether or not its lag could be timed)


@dataclass
class PhaseFigures:
    jobs: list[JobFigures] = field(default_factory=list)
    discord_429s: int = 0
    discord_requests: int = 0
    cpu_seconds: float = 0.0
    peak_rss_mb: float = 0.0
    wall_seconds: float = 0.0

    @property
    def delivered(self) -> list[JobFigures]:
        """Jobs whose user received a file, read off Discord alone, as ``wait_delivered`` does.

        Not "jobs with a delivery lag": the lag also needs the poll that saw the task finish,
        and a job must not drop out of the count when its lag cannot be timed."""
        return [j for j in self.jobs if j.delivered]

    @property
    def untimed(self) -> int:
        """Delivered jobs whose lag could not be timed (no poll at or after completion)."""
        return sum(1 for j in self.delivered if j.delivery_lag is None)

    def summary(self) -> dict[str, Any]:
        done = self.delivered
        lags = [j.delivery_lag for j in done if j.delivery_lag is not None]
        virtual = [j.delivery_lag_virtual for j in done if j.delivery_lag_virtual is not None]
        detect = [j.detect_lag for j in self.jobs if j.detect_lag is not None]
        polls = [j.polls for j in self.jobs]
        edits = [j.edits for j in self.jobs]
        over = sum(1 for j in done if j.edit_bound is not None and j.edits > j.edit_bound)
        gaps = [j.poll_gap for j in self.jobs if j.poll_gap is not None]
        n = max(1, len(self.jobs))
        return {
            "jobs": len(self.jobs),
            "delivered": len(done),
            "polls_per_task": _round(statistics.fmean(polls) if polls else math.nan),
            "mean_poll_gap_s": _round(statistics.fmean(gaps) if gaps else math.nan),
            "delivery_lag_p50_s": _round(percentile(lags, 50)),
            "delivery_lag_p95_s": _round(percentile(lags, 95)),
            "delivery_lag_max_s": _round(max(lags) if lags else math.nan),
            "detect_lag_p50_s": _round(percentile(detect, 50)),
            "detect_lag_p95_s": _round(percentile(detect, 95)),
            "delivery_lag_virtual_p50_s": _round(percentile(virtual, 50)),
            "edits_per_job": _round(statistics.fmean(edits) if edits else math.nan),
            "jobs_over_edit_bound": over,
            "delivered_untimed": self.untimed,
            "discord_429s": self.discord_429s,
            "discord_requests_per_job": _round(self.discord_requests / n),
            "cpu_s_per_job": _round(self.cpu_seconds / n, 4),
            "peak_rss_mb": _round(self.peak_rss_mb, 1),
        }


def _round(value: float, digits: int = 3) -> float | None:
    return None if math.isnan(value) else round(value, digits)


def phase_figures(
    w: World,
    jobs: list[JobSpec],
    uid_of: dict[str, int],
    *,
    since_request: int,
    progress_interval: float,
) -> PhaseFigures:
    """Figures for ``jobs`` (tag → user via ``uid_of``) from Discord requests after index
    ``since_request``; ``progress_interval`` gives the edit bound (one per interval plus the
    state changes: private answer, queued, running, delivering, done)."""
    fake, hh = w.discord, w.hh
    tasks = {tag_of(t.body["input"]["prompt"]): t for t in hh.tasks.values()}
    polls_at: dict[str, list[float]] = defaultdict(list)
    for r in hh.polls():
        polls_at[r.path.rsplit("/", 1)[-1]].append(r.at)
    requests = fake.requests[since_request:]
    delivered: dict[int, RecordedRequest] = {}
    edits: dict[int, int] = defaultdict(int)
    for rec in requests:
        if not rec.ok:
            continue
        owner = owner_of(w, rec)
        if owner is None:
            continue
        if rec.method == "PATCH":
            edits[owner] += 1
        if rec.files and owner not in delivered:
            delivered[owner] = rec
    first_seen: dict[int, FakeInteraction] = {}
    for it in fake.interactions.values():
        first_seen.setdefault(it.user.id, it)
    figures = PhaseFigures(
        discord_429s=sum(1 for r in requests if r.status == 429),
        discord_requests=len(requests),
    )
    for job in jobs:
        uid = uid_of[job.tag]
        task = tasks.get(job.tag)
        detect = delivery = virtual = bound = None
        if task is not None:
            seen = [at for at in polls_at[task.task_id] if at >= task.finishes_at]
            if seen:
                detect_at = min(seen)
                detect = detect_at - task.finishes_at
                rec = delivered.get(uid)
                if rec is not None:
                    work = max(0.0, rec.at - w.monotonic(detect_at))
                    delivery = detect + work
                    virtual = w.virtual(rec.at) - task.finishes_at
                    it = first_seen.get(uid)
                    if it is not None:
                        lifetime = w.virtual(rec.at) - w.virtual(it.created_at)
                        bound = lifetime / progress_interval + 5
        times = sorted(polls_at[task.task_id]) if task is not None else []
        gap = (times[-1] - times[0]) / (len(times) - 1) if len(times) > 1 else None
        figures.jobs.append(
            JobFigures(
                poll_gap=gap,
                tag=job.tag,
                polls=task.polls if task is not None else 0,
                task_seconds=job.task_seconds,
                detect_lag=detect,
                delivery_lag=delivery,
                delivery_lag_virtual=virtual,
                edits=edits.get(uid, 0),
                edit_bound=bound,
                delivered=uid in delivered,
            )
        )
    return figures


def ack_summary(latencies: dict[str, list[float | None]]) -> dict[str, Any]:
    """p50/p99 in ms per round label; a missed acknowledgement counts as Discord's 3 s."""
    out: dict[str, Any] = {}
    for label, values in latencies.items():
        filled = [3000.0 if v is None else v for v in values]
        out[f"ack_p50_ms_{label}"] = _round(percentile(filled, 50), 1)
        out[f"ack_p99_ms_{label}"] = _round(percentile(filled, 99), 1)
        out[f"ack_missed_{label}"] = sum(1 for v in values if v is None)
    return out


def ack_latencies(its: list[FakeInteraction]) -> list[float | None]:
    return [
        None if it.callback_at is None else (it.callback_at - it.created_at) * 1000.0 for it in its
    ]
