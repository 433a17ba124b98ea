"""The archive of original videos, by job id, so a result outlives the API's 24-hour link.

``Archive`` is the interface the runner and the cogs use; ``LocalArchive`` is the embedded
default: one directory (``./data/videos``; with several bot processes it must be a shared
volume), a byte budget with oldest-first eviction, atomic writes (a temporary name in the same
directory, then a rename), and a full disk reported as ``ArchiveError(DISK_FULL)`` with nothing
partial left. File work runs in a thread, never on the event loop. An S3-compatible backend can
implement the same Protocol later.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import os
import re
import shutil
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from hh_bot.media.errors import ArchiveError, MediaCode

GIB = 1024**3
SUFFIX = ".mp4"
_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
CHUNK = 1024 * 1024


@dataclass(frozen=True)
class Archived:
    """One stored original."""

    job_id: str
    path: Path
    """A local file to upload from (valid until the entry is evicted or deleted)."""
    size: int
    stored_at_ns: int
    """When it was stored (ordering for eviction), nanoseconds since the epoch."""


class Archive(Protocol):
    async def put(self, job_id: str, src: Path) -> Archived:
        """Store a copy of ``src`` under ``job_id`` (replacing any); may evict older entries."""
        ...

    async def get(self, job_id: str) -> Archived | None:
        """The stored original, or ``None``."""
        ...

    async def has(self, job_id: str) -> bool: ...

    async def delete(self, job_id: str) -> bool:
        """Remove it; ``False`` if there was nothing to remove."""
        ...


def _copy(src: Path, dst_fd: int) -> None:
    """Copy ``src`` into an open descriptor and fsync it (a seam for the disk-full test)."""
    with src.open("rb") as f, os.fdopen(dst_fd, "wb", closefd=False) as out:
        shutil.copyfileobj(f, out, CHUNK)
        out.flush()
        os.fsync(out.fileno())


class LocalArchive:
    """``Archive`` in one local directory with a size budget and oldest-first eviction."""

    def __init__(
        self, root: Path, budget_bytes: int, *, clock_ns: Callable[[], int] = time.time_ns
    ) -> None:
        if budget_bytes <= 0:
            raise ValueError("budget_bytes must be positive")
        self.root = root
        self.budget_bytes = budget_bytes
        self._clock_ns = clock_ns
        self._lock = asyncio.Lock()

    def _path(self, job_id: str) -> Path:
        if not _ID.match(job_id):
            raise ArchiveError(MediaCode.BAD_ID, repr(job_id[:80]))
        return self.root / f"{job_id}{SUFFIX}"

    async def put(self, job_id: str, src: Path) -> Archived:
        dest = self._path(job_id)
        async with self._lock:
            return await asyncio.to_thread(self._put, job_id, src, dest)

    def _put(self, job_id: str, src: Path, dest: Path) -> Archived:
        try:
            size = src.stat().st_size
            if size > self.budget_bytes:
                raise ArchiveError(MediaCode.OVER_BUDGET, f"{size} > {self.budget_bytes}")
            self.root.mkdir(parents=True, exist_ok=True)
            fd, name = tempfile.mkstemp(prefix=".incoming-", suffix=SUFFIX, dir=self.root)
        except OSError as exc:
            raise _os_error(exc) from None
        tmp = Path(name)
        now = self._clock_ns()
        try:
            _copy(src, fd)
            os.utime(tmp, ns=(now, now))
            tmp.replace(dest)
        except OSError as exc:
            raise _os_error(exc) from None
        finally:
            os.close(fd)
            with contextlib.suppress(FileNotFoundError):
                tmp.unlink()
        self._evict(keep=dest)
        return Archived(job_id, dest, size, now)

    def _evict(self, keep: Path) -> None:
        """Delete the oldest entries until the directory is within budget (never ``keep``)."""
        entries = []
        for path in self.root.glob(f"*{SUFFIX}"):
            if path.name.startswith("."):
                continue
            with contextlib.suppress(FileNotFoundError):
                st = path.stat()
                entries.append((st.st_mtime_ns, path.name, path, st.st_size))
        total = sum(e[3] for e in entries)
        for _, _, path, size in sorted(entries):
            if total <= self.budget_bytes:
                break
            if path == keep:
                continue
            with contextlib.suppress(FileNotFoundError):
                path.unlink()
                total -= size

    async def get(self, job_id: str) -> Archived | None:
        path = self._path(job_id)
        try:
            st = await asyncio.to_thread(path.stat)
        except FileNotFoundError:
            return None
        return Archived(job_id, path, st.st_size, st.st_mtime_ns)

    async def has(self, job_id: str) -> bool:
        return await self.get(job_id) is not None

    async def delete(self, job_id: str) -> bool:
        path = self._path(job_id)
        async with self._lock:
            try:
                await asyncio.to_thread(path.unlink)
            except FileNotFoundError:
                return False
        return True

    async def total_bytes(self) -> int:
        """Bytes currently stored (for /hh-admin and tests)."""

        def total() -> int:
            if not self.root.exists():
                return 0
            names = self.root.glob(f"*{SUFFIX}")
            return sum(p.stat().st_size for p in names if not p.name.startswith("."))

        return await asyncio.to_thread(total)


def _os_error(exc: OSError) -> ArchiveError:
    if exc.errno in (errno.ENOSPC, errno.EDQUOT):
        return ArchiveError(MediaCode.DISK_FULL, str(exc))
    return ArchiveError(MediaCode.IO, str(exc))
