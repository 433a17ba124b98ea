"""What a user is still to be told about a job that ended without a video, kept across restarts.

The runner stores a job's final state together with the error that ended it (see
``Store.save(notice=…)``) before it tells the user, so a crash in between is told on the next
start with the same reason (``Endings``); the error is kept as JSON (``error_to_json``).
"""

from __future__ import annotations

import logging
from typing import Any

from hh_bot.clock import Clock
from hh_bot.errors import (
    ApiError,
    AuthError,
    DownloadError,
    HHError,
    JobCanceled,
    ModerationBlocked,
    OutOfBalance,
    RejectedInput,
    TaskExpired,
    TaskFailed,
    Throttled,
    UnknownOutcome,
    UnsafeLink,
    UpstreamError,
)
from hh_bot.jobs.delivery import Delivery, DeliveryError
from hh_bot.jobs.model import Job, JobState
from hh_bot.store.interface import Store

log = logging.getLogger(__name__)

_API_ERRORS: dict[str, type[ApiError]] = {
    cls.__name__: cls
    for cls in (
        RejectedInput,
        ModerationBlocked,
        AuthError,
        OutOfBalance,
        UpstreamError,
        UnknownOutcome,
        TaskFailed,
        TaskExpired,
    )
}
MAX_MESSAGE = 500


def error_to_json(error: HHError) -> dict[str, Any]:
    return {
        "kind": type(error).__name__,
        "message": str(error)[:MAX_MESSAGE],
        "code": getattr(error, "code", None),
        "status": getattr(error, "status", None),
    }


def error_from_json(data: dict[str, Any]) -> HHError:
    """The error as the user is told about it (same class, message and code)."""
    kind = str(data.get("kind", ""))
    message = str(data.get("message", ""))
    code = data.get("code")
    status = data.get("status")
    if kind == Throttled.__name__:
        return Throttled(message, code=code or "Throttling")
    if kind == DownloadError.__name__:
        return DownloadError(message, status=status)
    if kind == UnsafeLink.__name__:
        return UnsafeLink(message, status=status)
    if kind == JobCanceled.__name__:
        return JobCanceled(message)
    cls = _API_ERRORS.get(kind)
    if cls is not None:
        return cls(message, status=status, code=code)
    return HHError(message)


class Endings:
    """Ends jobs that produced no video: the final state (and its ledger settlement) is stored
    together with the notice the owner is owed, then the owner is told and the notice cleared.
    ``tell_pending`` tells, after a restart, whatever a crash left untold."""

    def __init__(self, store: Store, delivery: Delivery, clock: Clock) -> None:
        self._store = store
        self._delivery = delivery
        self._clock = clock

    async def end(self, job: Job, error: HHError, state: JobState | None = None) -> Job:
        """Store ``job`` final (expired for a ``TaskExpired``, else failed unless ``state``)."""
        if state is None:
            state = JobState.EXPIRED if isinstance(error, TaskExpired) else JobState.FAILED
        detail = getattr(error, "code", None) or getattr(error, "reason", None)
        changes: dict[str, Any] = {}
        if state is not JobState.CANCELED:
            changes["error_kind"] = type(error).__name__
            changes["error_detail"] = None if detail is None else str(detail)[:200]
        job = job.advance(state, self._clock.now(), **changes)
        await self._store.save(job, notice=error_to_json(error))
        return job

    async def tell(self, job: Job, error: HHError) -> None:
        """Tell the owner how the (stored, final) job ended; then the notice is no longer owed."""
        try:
            await self._delivery.fail(job, error)
        except DeliveryError:
            log.warning("job %s: could not tell the user it ended (%s)", job.id, job.state)
        except Exception:
            log.exception("job %s: telling the user failed; retried on the next start", job.id)
            return
        await self._store.notice_sent(job.id)

    async def pending(self) -> list[tuple[Job, HHError]]:
        return [(job, error_from_json(data)) for job, data in await self._store.pending_notices()]
