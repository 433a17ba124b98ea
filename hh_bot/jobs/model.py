"""The job record and its state machine.

queued → submitting → running → downloading → delivering → done, and from any unfinished state
to failed, canceled (only before submit) or expired. Records are frozen; ``advance`` returns a new
record and refuses transitions the machine does not allow.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, replace
from enum import StrEnum
from typing import Any


class JobState(StrEnum):
    QUEUED = "queued"
    SUBMITTING = "submitting"
    RUNNING = "running"
    DOWNLOADING = "downloading"
    DELIVERING = "delivering"
    DONE = "done"
    FAILED = "failed"
    CANCELED = "canceled"
    EXPIRED = "expired"

    @property
    def final(self) -> bool:
        return self in FINAL_STATES

    @property
    def submitted(self) -> bool:
        """Past the point where a create may have been sent (the API cannot cancel it)."""
        return self not in (JobState.QUEUED, JobState.CANCELED)


FINAL_STATES = frozenset({JobState.DONE, JobState.FAILED, JobState.CANCELED, JobState.EXPIRED})

_ENDINGS = frozenset({JobState.FAILED, JobState.EXPIRED})
ALLOWED: dict[JobState, frozenset[JobState]] = {
    JobState.QUEUED: frozenset({JobState.SUBMITTING, JobState.CANCELED}) | _ENDINGS,
    JobState.SUBMITTING: frozenset({JobState.RUNNING}) | _ENDINGS,
    JobState.RUNNING: frozenset({JobState.DOWNLOADING, JobState.DELIVERING}) | _ENDINGS,
    JobState.DOWNLOADING: frozenset({JobState.DELIVERING}) | _ENDINGS,
    # A restart re-fetches the video of a job that was delivering (delivery is idempotent).
    JobState.DELIVERING: frozenset({JobState.DONE, JobState.DOWNLOADING}) | _ENDINGS,
}


class InvalidTransition(Exception):
    pass


@dataclass(frozen=True)
class JobParams:
    prompt: str
    image_urls: tuple[str, ...]
    image_labels: tuple[str, ...]
    resolution: str
    duration: int
    ratio: str
    watermark: bool
    prompt_extend: bool | None = None
    seed: int | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "prompt": self.prompt,
            "image_urls": list(self.image_urls),
            "image_labels": list(self.image_labels),
            "resolution": self.resolution,
            "duration": self.duration,
            "ratio": self.ratio,
            "watermark": self.watermark,
            "prompt_extend": self.prompt_extend,
            "seed": self.seed,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> JobParams:
        return cls(
            prompt=str(data["prompt"]),
            image_urls=tuple(data["image_urls"]),
            image_labels=tuple(data["image_labels"]),
            resolution=str(data["resolution"]),
            duration=int(data["duration"]),
            ratio=str(data["ratio"]),
            watermark=bool(data["watermark"]),
            prompt_extend=data.get("prompt_extend"),
            seed=data.get("seed"),
        )


@dataclass(frozen=True)
class ReplyTarget:
    """Where the job's reply lives, so delivery works after a restart too."""

    channel_id: int
    application_id: int
    interaction_token: str | None
    token_expires_at: float
    message_id: int | None = None
    interaction_upload_limit: int = 10 * 1024 * 1024
    guild_upload_limit: int = 10 * 1024 * 1024
    dm_first: bool = False
    """The owner asked (/settings) for results by DM first; the other routes follow."""
    locale: str | None = None
    """The Discord locale of the user who started the job ("zh-CN"): their DMs use it."""
    guild_locale: str | None = None
    """The server's Discord locale: posts in its channels (progress, result) use it."""

    def to_json(self) -> dict[str, Any]:
        return {
            "channel_id": self.channel_id,
            "application_id": self.application_id,
            "interaction_token": self.interaction_token,
            "token_expires_at": self.token_expires_at,
            "message_id": self.message_id,
            "interaction_upload_limit": self.interaction_upload_limit,
            "guild_upload_limit": self.guild_upload_limit,
            "dm_first": self.dm_first,
            "locale": self.locale,
            "guild_locale": self.guild_locale,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ReplyTarget:
        return cls(
            channel_id=int(data["channel_id"]),
            application_id=int(data["application_id"]),
            interaction_token=data.get("interaction_token"),
            token_expires_at=float(data["token_expires_at"]),
            message_id=data.get("message_id"),
            interaction_upload_limit=int(data["interaction_upload_limit"]),
            guild_upload_limit=int(data["guild_upload_limit"]),
            dm_first=bool(data.get("dm_first", False)),
            locale=data.get("locale"),  # absent on jobs stored before issue #10: English
            guild_locale=data.get("guild_locale"),
        )


ORIGINS = ("command", "menu", "retry", "remix", "continue")
"""How a job was made: /video, the "Make video" menu, or a button on an earlier result."""


@dataclass(frozen=True)
class VideoFacts:
    """What the delivered video really is, measured from the downloaded file (``hh_bot.media``
    probes it), not what was asked for: the Parameters card shows these when present."""

    duration: float
    """Seconds the video plays."""
    width: int
    height: int
    size: int
    """Bytes of the original file."""
    audio: bool
    """Whether it has an audio track."""

    def to_json(self) -> dict[str, Any]:
        return {
            "duration": self.duration,
            "width": self.width,
            "height": self.height,
            "size": self.size,
            "audio": self.audio,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> VideoFacts:
        return cls(
            duration=float(data["duration"]),
            width=int(data["width"]),
            height=int(data["height"]),
            size=int(data["size"]),
            audio=bool(data["audio"]),
        )


def new_job_id() -> str:
    return secrets.token_hex(5)


@dataclass(frozen=True)
class Job:
    id: str
    user_id: int
    guild_id: int | None
    params: JobParams
    reply: ReplyTarget
    cost: int  # millidollars reserved (or committed) for this job
    created_at: float
    state: JobState = JobState.QUEUED
    updated_at: float = 0.0
    task_id: str | None = None
    progress: int = 0
    submitted_at: float | None = None
    completed_at: float | None = None  # when the API reported completion
    finished_at: float | None = None  # when the job reached a final state
    result_url: str | None = None
    result_message_id: int | None = None
    result_channel_id: int | None = None  # where that message lives (the reply's channel or a DM)
    error_kind: str | None = None  # an error class name, e.g. "TaskFailed"
    error_detail: str | None = None  # upstream code or reason, safe to show
    # Lineage (issue #10): the job this one iterates on, how it was made (``ORIGINS``), and for
    # "Make video" jobs the message its images came from (fresh attachment URLs come from it).
    parent_id: str | None = None
    origin: str = "command"
    source_channel_id: int | None = None
    source_message_id: int | None = None
    video_facts: VideoFacts | None = None  # measured from the downloaded file; None before

    def advance(self, state: JobState, now: float, **changes: Any) -> Job:
        if state != self.state and state not in ALLOWED.get(self.state, frozenset()):
            raise InvalidTransition(f"job {self.id}: {self.state} → {state}")
        if state.final and self.finished_at is None:
            changes.setdefault("finished_at", now)
        return replace(self, state=state, updated_at=now, **changes)

    def with_changes(self, now: float, **changes: Any) -> Job:
        return replace(self, updated_at=now, **changes)
