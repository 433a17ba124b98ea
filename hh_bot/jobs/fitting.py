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

The same object measures the original once (``facts``: what the job record keeps, and what
the fit starts from) and makes its poster once (``poster``: a small frame shown beside a link
delivery), in a private directory under the fitter's temp directory, removed by ``aclose``.
"""

from __future__ import annotations

import asyncio
import logging
import shutil
import tempfile
import time
from contextlib import AsyncExitStack
from pathlib import Path

from hh_bot.media.errors import MediaError
from hh_bot.media.fit import Fitted, Fitter
from hh_bot.media.frames import poster_preview
from hh_bot.media.probe import MediaInfo, probe

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
        self._probed = False
        self._poster: Path | None = None
        self._poster_tried = False
        self._poster_dir: Path | None = None

    @property
    def failure(self) -> MediaError | None:
        """The error that ended the fitting, if one did."""
        return self._failed

    @property
    def transcodes(self) -> int:
        """How many fitted copies were made (each one a two-pass encode)."""
        return len(self._copies)

    async def facts(self) -> MediaInfo | None:
        """The original as measured (one probe, kept); ``None`` if it cannot be read, which
        also ends the fitting (a fit would fail on it the same way)."""
        if not self._probed:
            self._probed = True
            try:
                self._source = await probe(self._original, self._fitter.ffmpeg)
            except MediaError as error:
                self._failed = error
                log.info("job %s: original not measurable (%s)", self._label, error.code.value)
        return self._source

    async def poster(self, max_bytes: int) -> Path | None:
        """A small still of the video (made once) if it has at most ``max_bytes`` bytes."""
        if not self._poster_tried:
            self._poster_tried = True
            self._poster = await self._make_poster()
        if self._poster is None:
            return None
        size = (await asyncio.to_thread(self._poster.stat)).st_size
        return self._poster if size <= max_bytes else None

    async def _make_poster(self) -> Path | None:
        source = await self.facts()
        if source is None:
            return None
        tmp_dir = self._fitter.tmp_dir
        self._poster_dir = await asyncio.to_thread(_private_dir, tmp_dir)
        dest = self._poster_dir / "poster.jpg"
        try:
            return await poster_preview(self._original, dest, self._fitter.ffmpeg, info=source)
        except MediaError as error:
            log.info("job %s: no poster (%s)", self._label, error.code.value)
            return None

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
        """Remove every fitted copy and the poster (the original is the handover's)."""
        try:
            await self._stack.aclose()
        finally:
            if self._poster_dir is not None:
                await asyncio.to_thread(shutil.rmtree, self._poster_dir, True)


def _private_dir(parent: Path | None) -> Path:
    """A fresh directory named like the fitter's own (so the start-up sweep knows it)."""
    if parent is not None:
        parent.mkdir(parents=True, exist_ok=True)
    return Path(tempfile.mkdtemp(prefix="hh-fit-poster-", dir=parent))
