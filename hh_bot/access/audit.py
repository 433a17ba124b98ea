"""The audit channel's events and where a server's channel is kept; no words here.

The core says *what happened* (a job admitted, delivered or ended, an admin action, a budget
threshold crossed) as frozen events; the Discord layer (``cogs/audit_post.py``) renders each
as one line through the catalogue and posts it. Emitting is synchronous and never blocks or
raises (``EventSink.emit``): a job is never slowed or failed by its audit line.

Job outcomes are seen at the delivery boundary (``AuditedDelivery`` wraps the front end's
``Delivery``), so every way a job ends is covered without touching the runner's steps. A
delivery repeated after a crash (delivery is idempotent) may repeat its line: the audit
channel is a log, not a ledger.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

from hh_bot.access.alerts import BudgetAlert
from hh_bot.access.strikes import counts_as_strike
from hh_bot.errors import HHError, TaskFailed
from hh_bot.jobs.delivery import Delivery, ProgressView, ResultMessage, VideoResult
from hh_bot.jobs.model import Job
from hh_bot.store.interface import Store


@dataclass(frozen=True)
class JobAdmitted:
    """A job was admitted and queued: its reservation (``job.cost``) is held."""

    job: Job


@dataclass(frozen=True)
class JobDelivered:
    """The video reached its owner (charged ``job.cost``); ``message`` is where it lives."""

    job: Job
    message: ResultMessage | None


@dataclass(frozen=True)
class JobEnded:
    """The job ended without a video (failed, expired or canceled): its reservation was
    released, nothing charged. ``error`` says why."""

    job: Job
    error: HHError


@dataclass(frozen=True)
class AdminAction:
    """An admin changed something: ``action`` is a code (the ``audit.admin.*`` catalogue key
    without its prefix), ``params`` fill its template (already shown values: mentions,
    amounts), ``admin_id`` is who did it."""

    guild_id: int
    admin_id: int
    action: str
    params: dict[str, str] = field(default_factory=dict)


def is_strike(error: HHError) -> bool:
    """Whether a job's ending counts as a provider moderation refusal, by the rule the store
    counts strikes with (``Store.moderation_refusals``): refused at create, or a task that
    failed with DataInspectionFailed."""
    failed_check = isinstance(error, TaskFailed) and error.code == "DataInspectionFailed"
    return counts_as_strike(error) or failed_check


AuditEvent = JobAdmitted | JobDelivered | JobEnded | AdminAction | BudgetAlert


def guild_of(event: AuditEvent) -> int | None:
    """The server whose audit channel the event goes to (None: a job outside any server)."""
    if isinstance(event, JobAdmitted | JobDelivered | JobEnded):
        return event.job.guild_id
    return event.guild_id


class EventSink(Protocol):
    def emit(self, event: AuditEvent) -> None:
        """Take the event for posting later; returns at once and never raises."""


# -- where each server's audit channel is ------------------------------------------------------


@dataclass(frozen=True)
class AuditChannel:
    channel_id: int
    set_by: int
    """The admin who set it: told (once) when the bot can't post there."""
    told: bool = False
    """Whether ``set_by`` has been told the bot can't post there (reset by a post that works)."""
    alert_dm: int | None = None
    """A member who also gets budget alerts in a DM (the admin who asked for it)."""

    def to_json(self) -> dict[str, Any]:
        return {
            "channel": self.channel_id,
            "by": self.set_by,
            "told": self.told,
            "alert_dm": self.alert_dm,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> AuditChannel:
        dm = data.get("alert_dm")
        return cls(
            int(data["channel"]),
            int(data["by"]),
            bool(data.get("told")),
            None if dm is None else int(dm),
        )


def _scope(guild_id: int) -> str:
    return f"audit:{guild_id}"


class AuditSettings:
    """The audit channel of each server, in the store's settings (scope ``audit:<guild>``),
    so every process and every restart posts to the same place."""

    def __init__(self, store: Store) -> None:
        self._store = store

    async def get(self, guild_id: int) -> AuditChannel | None:
        data = await self._store.get_setting(_scope(guild_id), "channel")
        return None if data is None else AuditChannel.from_json(data)

    async def set(self, guild_id: int, channel: AuditChannel | None) -> None:
        value = None if channel is None else channel.to_json()
        await self._store.set_setting(_scope(guild_id), "channel", value)


class AuditedDelivery:
    """A ``Delivery`` that reports each job's outcome to ``sink`` after the user was told (or
    could not be: the outcome is the same)."""

    def __init__(self, inner: Delivery, sink: EventSink) -> None:
        self._inner = inner
        self._sink = sink

    async def show_progress(self, job: Job, view: ProgressView) -> None:
        await self._inner.show_progress(job, view)

    async def deliver(self, job: Job, result: VideoResult) -> ResultMessage | None:
        message = await self._inner.deliver(job, result)
        self._sink.emit(JobDelivered(job, message))
        return message

    async def fail(self, job: Job, error: HHError) -> None:
        try:
            await self._inner.fail(job, error)
        finally:
            self._sink.emit(JobEnded(job, error))
