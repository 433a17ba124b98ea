"""Copies of one downloaded video that fit a byte limit, for the delivery to upload.

The delivery asks for "a file of at most N bytes" once per route it tries (the reply's upload
limit, then the guild's, then a DM's 10 MiB, then smaller after a 413). The original is
returned when it fits (uploaded byte-identical, no ffmpeg run); otherwise it is fitted with the
media core's ``Fitter`` (two-pass H.264, at most ``TRANSCODE_SLOTS`` at once, each run under
``TRANSCODE_TIMEOUT``). A copy made for a larger limit is reused for a smaller one when it
already fits there; else the original is fitted again to the smaller limit (better than
re-encoding the copy).

The first ``MediaError`` (a corrupt source, ffmpeg crashed or timed out, a limit so small no
encode fits) ends the fitting for this video: every later ask gets ``None`` (send the link),
since another try would most likely fail the same way and cost another timeout. Fitted copies
live until ``aclose``, which the handover calls whatever happened; they are written under the
fitter's temp directory and removed there.
"""

from __future__ import annotations

import logging
import time
from contextlib import AsyncExitStack
from pathlib import Path

from hh_bot.media.errors import MediaError
from hh_bot.media.fit import Fitted, Fitter
from hh_bot.media.probe import MediaInfo

log = logging.getLogger(__name__)


class FittedCopies:
    """``VideoResult.fit``'s implementation: one original, its fitted copies, their cleanup."""

    def __init__(self, fitter: Fitter, original: Path, size: int, *, label: str = "") -> None:
        self._fitter = fitter
        self._original = original
        self._size = size
        self._label = label
        self._stack = AsyncExitStack()
        self._copies: list[Fitted] = []
        self._source: MediaInfo | None = None
        self._failed: MediaError | None = None

    @property
    def failure(self) -> MediaError | None:
        """The error that ended the fitting, if one did."""
        return self._failed

    @property
    def transcodes(self) -> int:
        """How many fitted copies were made (each one a two-pass encode)."""
        return len(self._copies)

    async def within(self, max_bytes: int) -> Path | None:
        """A file of at most ``max_bytes`` bytes: the original, a fitted copy, or ``None``."""
        if self._size <= max_bytes:
            return self._original
        for copy in sorted(self._copies, key=lambda c: -c.info.size):
            if copy.info.size <= max_bytes:
                return copy.path
        if self._failed is not None:
            return None
        started = time.monotonic()
        try:
            fitted = await self._stack.enter_async_context(
                self._fitter.fit(self._original, max_bytes, info=self._source)
            )
        except MediaError as error:
            self._failed = error
            detail = error.detail.splitlines()[0][:200] if error.detail else ""
            log.info(
                "job %s: no copy under %d bytes (%s %s); the link",
                self._label,
                max_bytes,
                error.code.value,
                detail,
            )
            return None
        self._source = fitted.source
        if fitted.info.size > max_bytes:  # the source fitted by the fitter's rule, not ours
            return None
        if fitted.transcoded:
            self._copies.append(fitted)
            log.info(
                "job %s: fitted %d -> %d bytes (%s kbit/s, %dp) in %.1f s",
                self._label,
                self._size,
                fitted.info.size,
                fitted.plan.video_kbps if fitted.plan else "?",
                fitted.info.short_side,
                time.monotonic() - started,
            )
        return fitted.path

    async def aclose(self) -> None:
        """Remove every fitted copy (the original is the handover's to remove)."""
        await self._stack.aclose()
