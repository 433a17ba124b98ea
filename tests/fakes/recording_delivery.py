"""A stand-in for the Discord side of the delivery interface, for tests of the core alone.

It records what the runner asked to show, keeps a copy of every delivered file's bytes (the
runner deletes its temporary file afterwards), and can be told to refuse.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

from hh_bot.errors import HHError
from hh_bot.jobs.delivery import DeliveryError, ProgressView, ResultMessage, VideoResult
from hh_bot.jobs.model import Job


@dataclass
class Delivered:
    job: Job
    result: VideoResult
    data: bytes | None


@dataclass
class RecordingDelivery:
    progress: list[tuple[str, ProgressView]] = field(default_factory=list)
    delivered: list[Delivered] = field(default_factory=list)
    failures: list[tuple[Job, HHError]] = field(default_factory=list)
    refuse: bool = False
    _changed: asyncio.Condition = field(default_factory=asyncio.Condition)

    async def show_progress(self, job: Job, view: ProgressView) -> None:
        self.progress.append((job.id, view))
        await self._notify()

    async def deliver(self, job: Job, result: VideoResult) -> ResultMessage | None:
        if self.refuse:
            raise DeliveryError("refused")
        data = result.file.read_bytes() if result.file is not None else None
        self.delivered.append(Delivered(job, result, data))
        await self._notify()
        return ResultMessage(1000 + len(self.delivered), job.reply.channel_id)

    async def fail(self, job: Job, error: HHError) -> None:
        self.failures.append((job, error))
        await self._notify()

    def outcomes(self, job_id: str) -> int:
        return sum(d.job.id == job_id for d in self.delivered) + sum(
            j.id == job_id for j, _ in self.failures
        )

    async def wait_outcomes(self, count: int, timeout: float = 10.0) -> None:
        async def enough() -> None:
            async with self._changed:
                await self._changed.wait_for(
                    lambda: len(self.delivered) + len(self.failures) >= count
                )

        await asyncio.wait_for(enough(), timeout)

    async def _notify(self) -> None:
        async with self._changed:
            self._changed.notify_all()
