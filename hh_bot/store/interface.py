"""What the core asks of its store: the ``Store`` and ``Tx`` protocols and the records they return.

Everything outside ``hh_bot/store/`` types against these protocols; the backends
(``sqlite.py``, the default, and ``postgres.py``) implement them, and ``open_store`` in
``factory.py`` picks one from ``DATABASE_URL``.

The guarantees every backend keeps:

* ``transaction()`` is one write transaction that no other admission interleaves with, across
  every process sharing the database (SQLite: ``BEGIN IMMEDIATE``; PostgreSQL: a transaction
  holding the admission advisory lock). ``Quota.admit`` checks every limit and inserts the job
  inside one, so two admissions racing for the last credit cannot both get it.
* ``save`` writes a job's state change together with its ledger settlement, and settles a job
  exactly once, whoever saves it and how often.
"""

from __future__ import annotations

import os
import secrets
import socket
from collections.abc import AsyncIterator, Collection, Iterable
from contextlib import AbstractAsyncContextManager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any, Protocol

from hh_bot.errors import HHError
from hh_bot.jobs.model import FINAL_STATES, Job, JobState
from hh_bot.reports.charts import SpendRow
from hh_bot.reports.export import LedgerLine

UNFINISHED = tuple(s.value for s in JobState if s not in FINAL_STATES)
"""The states of a job still to be driven, as stored."""


class StoreUnavailable(HHError):
    """The database can't be opened at start (unreachable, refused, in use); the message is one
    line that says which database and why, without credentials."""


class StoreInUse(StoreUnavailable):
    """Another process already has this SQLite database open (SQLite is for one process)."""


class DatabaseDown(StoreUnavailable):
    """The database could not be reached for a step (a PostgreSQL server restarting, a network
    cut): nothing of that step was written, so it may simply be tried again. Users asking
    meanwhile are refused privately, with nothing reserved."""


DRIVER: ContextVar[str | None] = ContextVar("hh_lease_driver", default=None)
"""The lease holder the current task drives its job for; None outside a job's task."""


class LeaseLost(Exception):
    """Another process holds the lease of a job this one was driving: stop, tell nobody."""

    def __init__(self, job_id: str, holder: str | None) -> None:
        super().__init__(f"job {job_id}: the lease is held by {holder or 'nobody'} now")
        self.job_id = job_id
        self.holder = holder


def holder_id() -> str:
    """A new id for this process's leases: host, pid and a random part (a restarted process
    with the same pid is a new holder)."""
    return f"{socket.gethostname()[:40]}:{os.getpid()}:{secrets.token_hex(4)}"


@dataclass(frozen=True)
class LedgerEntry:
    job_id: str
    user_id: int
    guild_id: int | None
    kind: str
    """reserve | commit | release"""
    amount: int
    at: float


@dataclass(frozen=True)
class UsageRow:
    user_id: int
    jobs: int
    committed: int
    """What the member was charged (delivered videos)."""
    reserved: int
    """Held for jobs still running."""
    possibly_billed: int = 0
    """What the API may have billed the shared key for the member's jobs (see ``tx.py``)."""


@dataclass(frozen=True)
class Purged:
    """What ``Store.purge_member`` did."""

    jobs: tuple[str, ...]
    """The ids of the finished jobs whose content was removed (for the archive)."""
    running: int
    """The member's jobs still unfinished, left alone (the runner holds them)."""


@dataclass(frozen=True)
class StoreFigures:
    """What the metrics endpoint reads from the store at scrape time (every process's jobs)."""

    jobs_by_state: dict[str, int]
    """Jobs stored in each state (states without jobs absent)."""
    charged: int
    """Millidollars committed in the ledger: what members were charged (delivered videos)."""
    possibly_billed: int
    """Millidollars the API may have billed the shared key (the ``billing`` table)."""


class Tx(Protocol):
    """Operations inside one write transaction (``Store.transaction``)."""

    async def spent(
        self, *, since: float, user_id: int | None = None, guild_id: int | None = None
    ) -> int:
        """Reserved plus committed cost of jobs created since ``since`` (released excluded);
        both ids given: one member on one server."""
        ...

    async def count_jobs(self, user_id: int, states: Iterable[str]) -> int: ...

    async def last_created_at(self, user_id: int) -> float | None:
        """When the user's last job that still counts was created, or None."""
        ...

    async def insert_job(self, job: Job) -> None:
        """Insert a new job with its reservation."""
        ...

    async def update_job(self, job: Job) -> None:
        """Write a state change; settle the reservation once when the job is final."""
        ...


class Store(Protocol):
    """The durable source of truth: jobs, the ledger, billing, notices, settings and grants."""

    async def close(self) -> None: ...

    async def schema_version(self) -> int: ...

    def transaction(self) -> AbstractAsyncContextManager[Tx]:
        """One write transaction, serialised with every other one (see the module docstring)."""
        ...

    def snapshot(self) -> AbstractAsyncContextManager[Tx]:
        """One read-only transaction: a consistent view that takes no write lock (neither
        waits for a writer nor blocks one). Only reads belong inside."""
        ...

    # -- jobs --------------------------------------------------------------------------------

    async def save(self, job: Job, *, notice: dict[str, Any] | None = None) -> None:
        """Persist a state change (settling the ledger when final) and, in the same
        transaction, the failure ``notice`` still owed to the user."""
        ...

    async def notice_sent(self, job_id: str) -> None: ...

    async def pending_notices(self) -> list[tuple[Job, dict[str, Any]]]: ...

    async def get_job(self, job_id: str) -> Job | None: ...

    async def unfinished_jobs(self) -> list[Job]: ...

    async def user_jobs(self, user_id: int, limit: int = 10) -> list[Job]: ...

    async def jobs_in_states(
        self, states: Iterable[JobState], guild_id: int | None = None
    ) -> list[Job]: ...

    async def charge_of(self, job_id: str) -> str | None: ...

    async def billed(self, job_id: str) -> str | None: ...

    async def ledger(self, job_id: str | None = None) -> list[LedgerEntry]: ...

    async def usage_report(
        self, guild_id: int | None, since: float, until: float
    ) -> list[UsageRow]: ...

    async def spend_by_day(
        self, guild_id: int | None, since: float, until: float, user_id: int | None = None
    ) -> list[SpendRow]:
        """What members were charged (delivered videos) per UTC day of creation, for jobs
        created in [since, until) on ``guild_id`` (None: everywhere), of ``user_id`` if given:
        sorted ``(day, user_id, charged_milli)``, the rows the charts draw."""
        ...

    def ledger_lines(
        self, guild_id: int | None, since: float, until: float, *, page: int = 2000
    ) -> AsyncIterator[LedgerLine]:
        """The ledger entries of jobs created in [since, until) on ``guild_id``, in the order
        written, read ``page`` rows at a time as the caller pulls (never the whole period at
        once). ``charged`` is the amount of a commit (0 for a reserve or release);
        ``possibly_billed`` is the job's billing amount, on its settling entry."""
        ...

    async def moderation_refusals(
        self, guild_id: int | None, user_id: int, since: float
    ) -> list[float]:
        """When the member's jobs on ``guild_id`` ended in a provider moderation refusal
        (refused at create, or the task failed with DataInspectionFailed) since ``since``,
        oldest first: the strike record ``hh_bot.access.strikes.replay`` reads."""
        ...

    async def purge_member(self, guild_id: int, user_id: int, anonymous_id: int) -> Purged:
        """Remove what the member wrote and sent from their finished jobs on ``guild_id``: the
        prompt and reference links and names (jobs' params, the ledger's prompt), the result
        link, the interaction token and any notice still owed; their jobs, ledger and billing
        rows move to ``anonymous_id`` with every amount kept, so totals stay right. Other
        members' jobs are untouched. SQLite then checkpoints its WAL and vacuums, so the text
        is gone from the files too."""
        ...

    # -- the dispatcher's shared state: holds across processes ----------------------------------

    async def claim_next(
        self,
        candidates: Collection[str],
        *,
        global_cap: int,
        per_user_cap: int,
        now: float,
        holder: str | None = None,
        lease_until: float | None = None,
    ) -> Job | None:
        """Claim (store as submitting) the next of ``candidates`` in the fair order of the whole
        queue whose owner is below ``per_user_cap``, if fewer than ``global_cap`` tasks are
        active at the API across every process; the claimed job, or None. With a ``holder``:
        candidates another process took over are skipped, and the claim takes the lease."""
        ...

    async def queue_order(self) -> list[str]:
        """The ids of every queued job (all processes'), in the order they will start."""
        ...

    async def active_count(self) -> int:
        """Jobs whose task is active at the API (stored submitting or running)."""
        ...

    # -- job leases: each job driven by one process at a time (``leases.py``) -------------------

    async def take_lease(self, job_id: str, holder: str, *, now: float, until: float) -> Job | None:
        """Take the lease of an unfinished job that is free, expired or ``holder``'s already;
        the job as stored, or None."""
        ...

    async def take_free_leases(
        self, holder: str, *, now: float, until: float, orphaned_before: float, at_start: bool
    ) -> list[Job]:
        """Take over unfinished jobs nobody drives (expired or no lease; a queued one without a
        lease only if created before ``orphaned_before``). ``at_start`` on a one-process
        database (SQLite): every unfinished job. The jobs taken (a batch), oldest first."""
        ...

    async def renew_leases(self, holder: str, *, until: float) -> set[str]:
        """Extend every lease of ``holder``; the ids of the jobs it still holds."""
        ...

    async def holds_lease(self, job_id: str, holder: str, *, until: float) -> bool:
        """Whether ``holder`` still holds the lease of ``job_id`` (extended if so)."""
        ...

    async def release_leases(self, holder: str, job_ids: Collection[str] | None = None) -> None:
        """Give up ``holder``'s leases of ``job_ids`` (all of them if None)."""
        ...

    # -- Discord shards: each run by one process (``hh_bot/shards.py``) -------------------------

    async def claim_shards(
        self, shard_ids: Collection[int], holder: str, *, now: float, until: float
    ) -> dict[int, str]:
        """Claim all of ``shard_ids`` for ``holder`` until ``until``, or none of them: the ids
        another process holds a live claim on, with its holder (empty: claimed)."""
        ...

    async def renew_shards(self, holder: str, *, until: float) -> set[int]:
        """Extend ``holder``'s shard claims; the ids it still holds."""
        ...

    async def release_shards(self, holder: str) -> None: ...

    # -- key/value settings and grants --------------------------------------------------------

    async def get_setting(self, scope: str, key: str) -> Any: ...

    async def set_setting(self, scope: str, key: str, value: Any) -> None: ...

    async def settings_in(self, scope: str) -> dict[str, Any]: ...

    async def add_grant(
        self, guild_id: int | None, user_id: int, amount: int, at: float, by: int
    ) -> None: ...

    async def granted(self, guild_id: int | None, user_id: int, since: float) -> int: ...

    # -- budget alerts (``hh_bot/access/alerts.py``) ----------------------------------------------

    async def mark_alert(
        self, guild_id: int, period: str, period_start: float, threshold: int, *, at: float
    ) -> bool:
        """Record that the server's ``period`` (starting ``period_start``) crossed ``threshold``
        percent of its limit: True for the one caller whose insert made the mark (it announces
        it), False when it was there already (announced before, here or in another process)."""
        ...

    # -- each member's own defaults (/settings) ------------------------------------------------

    async def user_settings(self, user_id: int) -> dict[str, Any] | None:
        """The member's stored settings document, or None when they have none."""
        ...

    async def set_user_settings(
        self, user_id: int, value: dict[str, Any] | None, at: float
    ) -> None:
        """Store the member's settings document (None: forget it)."""
        ...

    # -- figures for the metrics endpoint ------------------------------------------------------

    async def figures(self) -> StoreFigures:
        """Job counts by state and the two spend totals: three aggregate queries on indexed
        or small tables, cheap enough for every scrape."""
        ...
