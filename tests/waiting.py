"""Waiting for a condition that another task or process brings about, with a deadline.

Most waits in the tests use the fakes' own conditions; this is for state that has no signal
of its own (a row in SQLite, a subprocess's effect).
"""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Awaitable, Callable
from typing import TypeVar

T = TypeVar("T")


async def eventually(
    probe: Callable[[], Awaitable[T | None] | T | None], *, timeout: float = 10.0, what: str = ""
) -> T:
    """Re-check ``probe`` every few milliseconds until it returns something truthy."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        value = probe()
        if inspect.isawaitable(value):
            value = await value
        if value:
            return value  # type: ignore[return-value]
        if loop.time() > deadline:
            raise AssertionError(f"timed out waiting for {what or probe!r}")
        await asyncio.sleep(0.005)
