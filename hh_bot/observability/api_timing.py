"""The HappyHorse client with each call timed into ``Metrics``: a subclass, so the runner and
the handover use it unchanged and the client itself knows nothing of metrics."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from hh_bot.api.client import CreateRequest, HappyHorseClient, TaskStatus
from hh_bot.observability.metrics import Metrics


class TimedClient(HappyHorseClient):
    """``HappyHorseClient`` observing every create, poll and download: latency in real seconds
    by call and outcome (``ok`` or the error's class name), and one count per poll sent."""

    def __init__(self, *args: Any, metrics: Metrics, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._metrics = metrics

    def _observe(self, call: str, started: float, error: BaseException | None) -> None:
        outcome = "ok" if error is None else type(error).__name__
        self._metrics.api_seconds.labels(call=call, outcome=outcome).observe(
            time.perf_counter() - started
        )

    async def create(self, req: CreateRequest) -> str:
        started = time.perf_counter()
        try:
            task_id = await super().create(req)
        except Exception as error:
            self._observe("create", started, error)
            raise
        self._observe("create", started, None)
        return task_id

    async def poll(self, task_id: str) -> TaskStatus:
        started = time.perf_counter()
        self._metrics.polls.inc()
        try:
            status = await super().poll(task_id)
        except Exception as error:
            self._observe("poll", started, error)
            raise
        self._observe("poll", started, None)
        return status

    async def download(
        self, url: str, dest: Path, *, max_bytes: int, chunk_size: int = 65536
    ) -> int:
        started = time.perf_counter()
        try:
            size = await super().download(url, dest, max_bytes=max_bytes, chunk_size=chunk_size)
        except Exception as error:
            self._observe("download", started, error)
            raise
        self._observe("download", started, None)
        return size
