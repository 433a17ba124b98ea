"""The interface through which the runner shows a job to its user; the Discord layer implements it.

Calls are made only when something visible changed. Implementations must be idempotent for
``deliver`` and ``fail`` (a restart may repeat the call after a crash). The one rule at this
boundary: a call succeeds or raises ``DeliveryError``, never anything else, network failures
included. ``deliver`` and ``fail`` raise it only when the user could not be reached at all (and
an answer that was lost is checked for having landed first); ``show_progress`` raises it for
any edit that did not go through, and the runner treats progress as best effort.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Protocol
from urllib.parse import parse_qs, urlsplit

from hh_bot.errors import HHError
from hh_bot.jobs.model import Job, JobState


class DeliveryError(HHError):
    """Neither the reply, nor the channel, nor a DM could take the result."""


@dataclass(frozen=True)
class ProgressView:
    """What the progress reply shows; equal views mean no edit is needed."""

    state: JobState
    progress: int
    queue_position: int | None = None
    eta: float | None = None  # unix time of the expected completion, shown as <t:…:R>


class Fitting(Protocol):
    async def within(self, max_bytes: int) -> Path | None:
        """A copy of the video of at most ``max_bytes`` bytes, or None (send the link)."""
        ...


class Poster(Protocol):
    async def poster(self, max_bytes: int) -> Path | None:
        """A still of the video of at most ``max_bytes`` bytes, shown beside a link; or None."""
        ...

    @property
    def failure(self) -> HHError | None:
        """Why no copy within a limit could be made (the video could not be shrunk), if so."""
        ...


@dataclass(frozen=True)
class VideoResult:
    url: str  # the signed link, valid until ``url_expires_at``
    url_expires_at: float
    file: Path | None  # the downloaded MP4, or None when it could not be fetched
    size: int | None
    fitting: Fitting | None = None  # makes smaller copies; None: the original or the link
    poster: Poster | None = None  # a still beside a link delivery, and why fitting failed

    async def upload_file(self, max_bytes: int) -> Path | None:
        """A file of at most ``max_bytes`` bytes to upload: the original when it fits (never
        re-encoded), else a fitted copy, else None (the link). Valid until the delivery
        returns."""
        if self.file is None or self.size is None:
            return None
        if self.size <= max_bytes:
            return self.file
        if self.fitting is None:
            return None
        return await self.fitting.within(max_bytes)

    async def poster_file(self, max_bytes: int) -> Path | None:
        """A poster frame of at most ``max_bytes`` bytes for a link delivery, or None."""
        if self.poster is None or self.file is None:
            return None
        return await self.poster.poster(max_bytes)

    @property
    def fit_failed(self) -> bool:
        """A smaller copy was tried and could not be made (ffmpeg failed, the file is damaged,
        or the limit leaves too few bits): the link is sent, and the user is told why."""
        return self.poster is not None and self.poster.failure is not None


@dataclass(frozen=True)
class ResultMessage:
    """Where a delivered result lives: the reply's channel, or the owner's DM channel when the
    channel refused it (``/jobs`` links it there)."""

    message_id: int
    channel_id: int


LINK_LIFETIME = 24 * 3600.0


def link_expiry(url: str, completed_at: float) -> float:
    """When a signed result link stops working: its ``Expires`` parameter when it has a
    readable one, else the API's documented 24 hours after completion."""
    value = parse_qs(urlsplit(url).query).get("Expires", [""])[0]
    return float(value) if value.isdigit() else completed_at + LINK_LIFETIME


class Delivery(Protocol):
    async def show_progress(self, job: Job, view: ProgressView) -> None:
        """Edit the job's reply to show ``view``."""

    async def deliver(self, job: Job, result: VideoResult) -> ResultMessage | None:
        """Hand the video to the user (the file, or a copy fitted to the route's limit beside
        the link, else the link); return where the message that carries it lives (None when
        not known)."""

    async def fail(self, job: Job, error: HHError) -> None:
        """Tell the user the job ended without a video, and why."""
