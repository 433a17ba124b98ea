"""The process's services, built once by the entry point and closed on exit (no globals)."""

from __future__ import annotations

import asyncio
import contextlib
import shutil
import tempfile
import time
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

import aiohttp

from hh_bot.access.alerts import BudgetAlerts
from hh_bot.access.audit import AuditedDelivery, AuditSettings, EventSink
from hh_bot.access.policy import Policy
from hh_bot.access.quota import Quota, cost_of
from hh_bot.access.settings import Preferences
from hh_bot.api.client import HappyHorseClient
from hh_bot.api.result_link import LinkRules, download_session
from hh_bot.clock import Clock, SystemClock
from hh_bot.config import MIN_DURATION, RESOLUTIONS, Settings
from hh_bot.jobs.delivery import Delivery
from hh_bot.jobs.intake import VideoService
from hh_bot.jobs.poll_memory import PollMemory
from hh_bot.jobs.polling import PollPlanner
from hh_bot.jobs.runner import Runner, RunnerConfig
from hh_bot.media.archive import Archive, LocalArchive
from hh_bot.media.ffmpeg import FFmpeg
from hh_bot.media.fit import Fitter
from hh_bot.observability.api_timing import TimedClient
from hh_bot.observability.discord_trace import rate_limit_trace
from hh_bot.observability.metrics import Metrics
from hh_bot.observability.server import GatewayProbe, MetricsServer
from hh_bot.references.checker import ReferenceChecker
from hh_bot.store.factory import open_store
from hh_bot.store.interface import Store


@dataclass
class Services:
    settings: Settings
    clock: Clock
    session: aiohttp.ClientSession
    store: Store
    api: HappyHorseClient
    checker: ReferenceChecker
    policy: Policy
    quota: Quota
    planner: PollPlanner
    tmp_dir: Path
    downloads: aiohttp.ClientSession | None = None  # result links only (see api.result_link)
    metrics_server: MetricsServer | None = None  # only with METRICS_PORT
    fitter: Fitter | None = None  # fits videos to upload limits (None: the original or the link)
    archive: Archive | None = None  # keeps the originals (None: ARCHIVE_BUDGET_GB=0)
    audit: AuditSettings | None = None  # each server's audit channel (built with the store)
    alerts: BudgetAlerts | None = None  # budget thresholds announced once per period
    _runner: Runner | None = field(default=None, init=False)
    _video: VideoService | None = field(default=None, init=False)

    @property
    def runner(self) -> Runner:
        if self._runner is None:
            raise RuntimeError("the runner starts in setup_hook")
        return self._runner

    @property
    def video(self) -> VideoService:
        if self._video is None:
            raise RuntimeError("the runner starts in setup_hook")
        return self._video

    @property
    def preferences(self) -> Preferences:
        """Members' /settings and servers' rules (stateless: the store holds them)."""
        return Preferences(self.store, self.policy)

    async def start_runner(self, delivery: Delivery, events: EventSink | None = None) -> Runner:
        """Create the runner around the front end's delivery, resume stored jobs, and start.
        With ``events`` (the audit channel), each job admitted and each outcome is told to it."""
        s = self.settings
        if events is not None:
            delivery = AuditedDelivery(delivery, events)
        config = RunnerConfig(
            global_cap=s.limits.global_active_cap,
            per_user_cap=max(1, s.limits.max_concurrent_per_user),
            poll_deadline=s.poll_deadline,
            progress_interval=s.progress_edit_interval,
            max_video_bytes=s.max_video_bytes,
            lease_length=s.lease_length,
        )
        self._runner = Runner(
            store=self.store,
            api=self.api,
            delivery=delivery,
            clock=self.clock,
            planner=self.planner,
            config=config,
            tmp_dir=self.tmp_dir,
            fitter=self.fitter,
            archive=self.archive,
            events=events,
        )
        self._video = VideoService(
            settings=s,
            clock=self.clock,
            store=self.store,
            policy=self.policy,
            quota=self.quota,
            checker=self.checker,
            runner=self._runner,
        )
        await self._runner.start()
        return self._runner

    def watch_gateway(self, probe: GatewayProbe) -> None:
        """Let /healthz see the Discord side through ``probe`` (no-op without METRICS_PORT)."""
        if self.metrics_server is not None:
            self.metrics_server.watch_gateway(probe)

    def discord_trace(self) -> aiohttp.TraceConfig | None:
        """A trace for the bot's HTTP session counting Discord's 429s, with METRICS_PORT."""
        if self.metrics_server is None:
            return None
        return rate_limit_trace(self.metrics_server.metrics)

    async def close(self) -> None:
        if self.metrics_server is not None:
            await self.metrics_server.stop()
        if self._runner is not None:
            await self._runner.stop()
        await self.checker.close()
        await self.session.close()
        if self.downloads is not None:
            await self.downloads.close()
        await self.store.close()  # (each fit removes its own directory, also when cancelled)


FIT_DIR_GLOB = "hh-fit-*"  # the Fitter's private directories (hh_bot.media.fit)
FIT_RUNS = 4  # ffmpeg runs one fit may make (probe, two passes, a retried second pass)


def remove_fit_leftovers(tmp_dir: Path, older_than: float) -> None:
    """Remove fitting directories a killed process left behind: only those older than any
    live fit can be (another process on this host may share ``tmp_dir``)."""
    if not tmp_dir.is_dir():
        return
    now = time.time()
    for stale in tmp_dir.glob(FIT_DIR_GLOB):
        with contextlib.suppress(OSError):
            if now - stale.stat().st_mtime > older_than:
                shutil.rmtree(stale, ignore_errors=True)


def cheapest_job(settings: Settings) -> int:
    """The smallest cost a job can have: what a budget must keep to admit anything."""
    return min(cost_of(settings, r, MIN_DURATION) for r in RESOLUTIONS)


def build_media(settings: Settings, tmp_dir: Path) -> tuple[Fitter, Archive | None]:
    """One ffmpeg owner (its slots bound the transcodes of the whole process) and the archive."""
    m = settings.media
    ffmpeg = FFmpeg(
        slots=m.transcode_slots,
        timeout=m.transcode_timeout,
        niceness=m.transcode_niceness,
        idle=m.transcode_idle,
    )
    archive = None
    if m.archive_budget_bytes > 0:
        archive = LocalArchive(Path(m.archive_dir), m.archive_budget_bytes)
    return Fitter(ffmpeg, tmp_dir=tmp_dir), archive


async def build_services(
    settings: Settings,
    *,
    clock: Clock | None = None,
    checker: ReferenceChecker | None = None,
    tmp_dir: Path | None = None,
) -> Services:
    clock = clock or SystemClock()
    store = await open_store(settings.database_url)  # first: nothing else to close if it fails
    session = aiohttp.ClientSession(cookie_jar=aiohttp.DummyCookieJar())
    rules = LinkRules.for_base(settings.apiyi_base_url)
    downloads = download_session(rules)
    policy = Policy(store, settings.limits, settings.defaults)
    planner = PollPlanner(
        first_delay=settings.poll_first_delay,
        interval=settings.poll_interval,
        memory=PollMemory(store),
    )
    await planner.recall()  # what earlier runs learned about task durations
    tmp_dir = tmp_dir or Path(tempfile.gettempdir()) / "hh-bot"
    stale_after = FIT_RUNS * settings.media.transcode_timeout + 60
    await asyncio.to_thread(remove_fit_leftovers, tmp_dir, stale_after)
    fitter, archive = build_media(settings, tmp_dir)
    metrics = Metrics() if settings.metrics.port is not None else None
    client = HappyHorseClient if metrics is None else partial(TimedClient, metrics=metrics)
    services = Services(
        settings=settings,
        clock=clock,
        session=session,
        store=store,
        api=client(
            session,
            base_url=settings.apiyi_base_url,
            api_key=settings.apiyi_api_key.reveal(),
            model=settings.model,
            clock=clock,
            create_timeout=settings.api_create_timeout,
            poll_timeout=settings.api_poll_timeout,
            download_timeout=settings.api_download_stall,
            download_session=downloads,
            link_rules=rules,
        ),
        checker=checker or ReferenceChecker(),
        policy=policy,
        quota=Quota(store, policy, settings, clock),
        planner=planner,
        tmp_dir=tmp_dir,
        downloads=downloads,
        fitter=fitter,
        archive=archive,
        audit=AuditSettings(store),
        alerts=BudgetAlerts(store, policy, clock, cheapest=cheapest_job(settings)),
    )
    if metrics is not None:
        server = MetricsServer(
            metrics, store, host=settings.metrics.host, port=settings.metrics.port or 0
        )
        try:
            await server.start()  # cleans up after itself when it can't listen
        except BaseException:
            await services.close()
            raise
        services.metrics_server = server
    return services
