"""The process's metrics: one registry per process (never the global default, so a test can
build several), the instruments the code updates as things happen, and the store figures read
at scrape time.

Jobs by state, the queue length and the spend are read from the store when /metrics is asked
(``refresh``): they are the same for every process sharing a database, so a dashboard takes
their ``max`` across processes, not their sum. API latency, polls and Discord 429s are this
process's own counters: sum them across processes.
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client.exposition import generate_latest

from hh_bot.jobs.model import JobState
from hh_bot.store.interface import Store

API_CALLS = ("create", "poll", "download")
LATENCY_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0, float("inf"))
"""Seconds: a poll answers in tens of milliseconds, a create in a second or so, a download of a
large video in up to minutes."""


class Metrics:
    """Every instrument of one process, registered in its own registry."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        r = self.registry
        self.api_seconds = Histogram(
            "hh_api_call_seconds",
            "Latency of HappyHorse API calls (create with its retries, one poll, one download).",
            ["call", "outcome"],
            buckets=LATENCY_BUCKETS,
            registry=r,
        )
        self.polls = Counter("hh_api_polls", "Status polls sent to the HappyHorse API.", registry=r)
        self.discord_429 = Counter(
            "hh_discord_rate_limited",
            "Discord answers with HTTP 429 (every route, before discord.py retries).",
            registry=r,
        )
        self.jobs = Gauge("hh_jobs", "Jobs in the store by state.", ["state"], registry=r)
        self.queue_length = Gauge(
            "hh_queue_length", "Jobs queued behind the global cap (all processes).", registry=r
        )
        self.charged = Gauge(
            "hh_spend_charged_usd",
            "Dollars members were charged in all (delivered videos; the ledger's commits).",
            registry=r,
        )
        self.possibly_billed = Gauge(
            "hh_spend_possibly_billed_usd",
            "Dollars the API may have billed the shared key in all (every task it may have run).",
            registry=r,
        )
        for call in API_CALLS:  # present at 0 before the first call
            self.api_seconds.labels(call=call, outcome="ok")

    async def refresh(self, store: Store) -> None:
        """Read the store's figures into the gauges (raises what the store raises)."""
        figures = await store.figures()
        for state in JobState:
            self.jobs.labels(state=state.value).set(figures.jobs_by_state.get(state.value, 0))
        self.queue_length.set(figures.jobs_by_state.get(JobState.QUEUED.value, 0))
        self.charged.set(figures.charged / 1000)
        self.possibly_billed.set(figures.possibly_billed / 1000)

    def exposition(self) -> bytes:
        """The registry in Prometheus's text format."""
        return generate_latest(self.registry)
