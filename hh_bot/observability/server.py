"""/healthz and /metrics over aiohttp on the bot's own event loop (no thread), on the opt-in
``METRICS_PORT``.

/healthz answers 200 ``{"status": "ok", …}`` when the gateway is connected and the store answers
a trivial query, 503 with the same fields otherwise (``"gateway": false`` or ``"store": false``).
/metrics reads the store's figures, then serves the registry in Prometheus's text format; when
the store can't answer it still serves the process's own counters, with ``hh_store_up 0``.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, Gauge

from hh_bot.errors import HHError
from hh_bot.observability.metrics import Metrics
from hh_bot.store.interface import Store

log = logging.getLogger(__name__)

STORE_TIMEOUT = 5.0
"""Seconds the store may take to answer a health or metrics query before it counts as down."""

GatewayProbe = Callable[[], bool]


class MetricsUnavailable(HHError):
    """The metrics port can't be opened at start (in use, not permitted, no such address); the
    message is one line naming METRICS_HOST:METRICS_PORT and why."""


class MetricsServer:
    """The endpoint of one process; ``watch_gateway`` tells it how to see the Discord side."""

    def __init__(self, metrics: Metrics, store: Store, *, host: str, port: int) -> None:
        self.metrics = metrics
        self._store = store
        self._host = host
        self._port = port
        self._gateway: GatewayProbe = lambda: False
        self._store_up = Gauge(
            "hh_store_up", "1 when the store answered the last scrape.", registry=metrics.registry
        )
        app = web.Application()
        app.router.add_get("/healthz", self._healthz)
        app.router.add_get("/metrics", self._metrics)
        self._runner = web.AppRunner(app, access_log=None)
        self.port: int | None = None
        """The port actually bound (``METRICS_PORT=0`` takes any free one), once started."""

    def watch_gateway(self, probe: GatewayProbe) -> None:
        """Use ``probe`` (True while the gateway is connected) from now on; the bot sets it."""
        self._gateway = probe

    async def start(self) -> int:
        await self._runner.setup()
        site = web.TCPSite(self._runner, self._host, self._port)
        try:
            await site.start()
        except OSError as error:
            await self._runner.cleanup()
            why = error.strerror or type(error).__name__
            raise MetricsUnavailable(
                f"cannot serve metrics on {self._host}:{self._port} (METRICS_HOST:METRICS_PORT):"
                f" {why}"
            ) from None
        self.port = int(self._runner.addresses[0][1])
        log.info("health and metrics on http://%s:%d (/healthz, /metrics)", self._host, self.port)
        return self.port

    async def stop(self) -> None:
        await self._runner.cleanup()

    async def _store_answers(self) -> bool:
        try:
            await asyncio.wait_for(self._store.schema_version(), STORE_TIMEOUT)
        except Exception as error:  # closed, unreachable, timed out: all mean "down"
            log.debug("health: the store did not answer (%s)", type(error).__name__)
            return False
        return True

    async def _healthz(self, request: web.Request) -> web.Response:
        try:
            gateway = bool(self._gateway())
        except Exception:  # a probe of a bot half torn down
            gateway = False
        store = await self._store_answers()
        ok = gateway and store
        body = {"status": "ok" if ok else "unavailable", "gateway": gateway, "store": store}
        return web.json_response(body, status=200 if ok else 503)

    async def _metrics(self, request: web.Request) -> web.Response:
        try:
            await asyncio.wait_for(self.metrics.refresh(self._store), STORE_TIMEOUT)
        except Exception as error:
            # the class only: a driver's message may carry the database address
            log.warning("metrics: the store did not answer (%s)", type(error).__name__)
            self._store_up.set(0)
        else:
            self._store_up.set(1)
        return web.Response(
            body=self.metrics.exposition(), headers={"Content-Type": CONTENT_TYPE_LATEST}
        )
