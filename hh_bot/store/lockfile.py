"""SQLite is for one process: a lock beside the database file, held while the process has it open.

The lock is a POSIX record lock (``fcntl.lockf``) on ``<database>.lock``: the kernel drops it
when the process ends, however it ends, so a crashed bot never leaves a stale lock. Record locks
belong to the process, not to one open file, so the stores one process opens on the same file
(the tests open two to race them) share one lock; a count per file keeps it until the last of
them closes (closing any descriptor of the file would drop the process's lock).
"""

from __future__ import annotations

import contextlib
import fcntl
import os
from dataclasses import dataclass
from pathlib import Path

from hh_bot.store.interface import StoreInUse


@dataclass
class _Held:
    fd: int
    users: int


# The process's locks, by lock file: a per-process resource by nature (see the docstring).
_held: dict[Path, _Held] = {}


def lock_path(database: Path) -> Path:
    return database.with_name(database.name + ".lock")


def acquire(database: Path) -> Path:
    """Take the lock of ``database`` for this process, or raise ``StoreInUse`` naming the
    holder; returns the key to ``release``."""
    path = lock_path(database).resolve()
    held = _held.get(path)
    if held is not None:
        held.users += 1
        return path
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.lockf(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        holder = _read_pid(fd)
        os.close(fd)
        who = f"process {holder}" if holder else "another process"
        raise StoreInUse(
            f"the SQLite database {database} is in use by {who}; SQLite is for one process"
            " (run one bot, or set DATABASE_URL=postgresql://… for several)"
        ) from None
    os.ftruncate(fd, 0)
    os.write(fd, f"{os.getpid()}\n".encode())
    _held[path] = _Held(fd, 1)
    return path


def release(path: Path) -> None:
    held = _held.get(path)
    if held is None:
        return
    held.users -= 1
    if held.users == 0:
        del _held[path]
        os.close(held.fd)  # drops the lock


def _read_pid(fd: int) -> str:
    with contextlib.suppress(OSError):
        text = os.pread(fd, 32, 0).decode(errors="replace").strip()
        if text.isdigit():
            return text
    return ""
