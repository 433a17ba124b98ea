"""The media core's typed errors: one base class, one subclass per stage, a code per reason.

Codes are enum values, never English; the Discord layer words them. Every one of these means
"deliver the link instead": the job itself is never lost or charged twice because of them.
"""

from __future__ import annotations

from enum import StrEnum

from hh_bot.errors import HHError


class MediaCode(StrEnum):
    UNREADABLE = "unreadable"
    """Not a video ffmpeg can open (no moov box, not an MP4, no video stream)."""
    CORRUPT = "corrupt"
    """It opens, but packets are missing or damaged (a truncated download)."""
    TOO_LONG = "too_long"
    """The packets themselves span more time than any result can (``MAX_SECONDS``)."""
    TOO_SMALL = "too_small"
    """The byte limit leaves less bitrate than the lowest rung of the ladder: no encode fits."""
    CRASHED = "crashed"
    """ffmpeg exited non-zero or was killed by a signal."""
    TIMEOUT = "timeout"
    """ffmpeg ran longer than its timeout and was killed with its process group."""
    UNVERIFIED = "unverified"
    """ffmpeg finished but its output is over the target, off in duration or does not decode."""
    NO_FRAME = "no_frame"
    """A frame was asked for and none came out."""
    DISK_FULL = "disk_full"
    """ENOSPC while writing; nothing partial is left behind."""
    IO = "io"
    """Any other OS error while reading or writing a file."""
    BAD_ID = "bad_id"
    """A job id that cannot name a file safely."""
    OVER_BUDGET = "over_budget"
    """One file alone is larger than the archive's whole budget."""


class MediaError(HHError):
    """Base of the media errors; ``code`` says why, ``detail`` is for logs only."""

    def __init__(self, code: MediaCode, detail: str = "") -> None:
        super().__init__(f"{code.value}: {detail}" if detail else code.value)
        self.code = code
        self.detail = detail


class FFmpegError(MediaError):
    """The ffmpeg process itself failed: ``CRASHED`` or ``TIMEOUT``."""

    def __init__(self, code: MediaCode, detail: str = "", *, returncode: int | None = None):
        super().__init__(code, detail)
        self.returncode = returncode


class ProbeError(MediaError):
    """A file could not be measured: ``UNREADABLE``, ``CORRUPT``, ``TOO_LONG`` (or ffmpeg's)."""


class FitError(MediaError):
    """No fitted file: ``TOO_SMALL``, ``CRASHED``, ``TIMEOUT``, ``UNVERIFIED`` or a probe code."""


class FrameError(MediaError):
    """No still frame: ``NO_FRAME`` or ffmpeg's codes."""


class ArchiveError(MediaError):
    """The archive refused or failed: ``DISK_FULL``, ``IO``, ``BAD_ID``, ``OVER_BUDGET``."""
