"""Typed, frozen settings read from the environment (``.env`` is loaded by the entry point).

A missing or malformed key raises ``ConfigError`` whose message is one line naming the key.
Secrets are wrapped in ``Secret`` so that no repr, f-string or log line can show them.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field

from hh_bot.access.strikes import DEFAULT_LADDER, Ladder, parse_ladder
from hh_bot.env_values import (
    ConfigError as ConfigError,
    Reader,
    Secret as Secret,
    bool_value,
    choice,
    int_range,
    log_level,
    positive_float,
    snowflake,
    url_value,
    usd_to_milli as usd_to_milli,
)
from hh_bot.shards import MAX_SHARDS, ShardPlan, parse_shard_ids, shard_plan
from hh_bot.store.url import BadDatabaseUrl, DatabaseUrl, parse_database_url

RESOLUTIONS = ("720P", "1080P")
RATIOS = ("16:9", "9:16", "1:1", "4:3", "3:4")
MIN_DURATION, MAX_DURATION = 2, 15  # as APIYI documents (Alibaba's docs say 3)
MIN_POLL_GAP = 3.0  # the API's rate guidance: never poll one task closer than this
MIN_LEASE = 1.0  # a job lease renewed every quarter of a shorter one would be mostly renewals


@dataclass(frozen=True)
class Defaults:
    resolution: str = "720P"
    duration: int = 5
    ratio: str = "16:9"
    watermark: bool = False
    prompt_extend: bool = True


@dataclass(frozen=True)
class Limits:
    """Quota defaults in millidollars; ``None`` means unlimited."""

    user_daily: int | None = 2000
    user_monthly: int | None = 20000
    guild_daily: int | None = 20000
    guild_monthly: int | None = None
    max_concurrent_per_user: int = 2
    max_queued_per_user: int = 3
    global_active_cap: int = 8
    cooldown_seconds: float = 0.0
    moderation_cooldowns: Ladder = DEFAULT_LADDER
    """The cooldown after the 1st, 2nd, … provider moderation refusal of a UTC day (the last
    step for every one after; see ``hh_bot.access.strikes``)."""


@dataclass(frozen=True)
class MediaSettings:
    """Transcoding and the archive of originals (``hh_bot.media``)."""

    transcode_slots: int = 1
    """ffmpeg transcodes running at once; each takes most of the CPU for its length."""
    transcode_timeout: float = 300.0
    """Seconds one ffmpeg run may take before it is killed and the link is sent instead."""
    archive_dir: str = "data/videos"
    """Where originals are kept; with several bot processes, a shared volume."""
    archive_budget_bytes: int = 5 * 1024**3
    """Bytes the archive may hold before the oldest originals are evicted; 0 keeps none."""
    transcode_niceness: int = 19
    """The nice value ffmpeg runs at (0..19). 19, the lowest priority, keeps a transcode from
    delaying acks and polls; on a host where other busy processes share the cores, a low
    priority can starve the transcode into its timeout (then the link is sent)."""
    transcode_idle: bool = True
    """Also run ffmpeg under ``SCHED_IDLE`` (Linux): it gets a core only when nothing else wants
    one. Off (and niceness 0) for a host whose cores are kept busy by other work, and in tests."""


@dataclass(frozen=True)
class MetricsSettings:
    """The opt-in health and metrics endpoint (``hh_bot/observability/server.py``)."""

    port: int | None = None
    """TCP port of /healthz and /metrics; None serves nothing, 0 takes any free port."""
    host: str = "127.0.0.1"
    """Address the endpoint binds; 0.0.0.0 inside a container so the host can scrape it."""


@dataclass(frozen=True)
class Settings:
    discord_token: Secret
    apiyi_api_key: Secret
    apiyi_base_url: str = "https://api.apiyi.com"
    model: str = "happyhorse-1.0-r2v"
    database_url: str = "sqlite:///data/hh-bot.sqlite3"
    defaults: Defaults = field(default_factory=Defaults)
    limits: Limits = field(default_factory=Limits)
    price_720p_milli: int = 126  # per second of video
    price_1080p_milli: int = 224
    poll_first_delay: float = 15.0
    poll_interval: float = 4.0  # the gap around the expected finish (see jobs/polling.py)
    poll_deadline: float = 1200.0
    progress_edit_interval: float = 5.0
    discord_timeout: float = 15.0  # seconds a Discord request may wait for its answer
    max_video_bytes: int = 200 * 1024 * 1024
    api_create_timeout: float = 30.0  # real seconds a create may take before its outcome is unknown
    api_poll_timeout: float = 15.0  # real seconds one poll may take before it is tried again
    api_download_stall: float = 30.0  # real seconds a result download may stay silent
    dev_guild_id: int | None = None
    admin_role_id: int | None = None
    log_level: str = "INFO"
    media: MediaSettings = field(default_factory=MediaSettings)
    shards: ShardPlan | None = None
    """SHARD_COUNT / SHARD_IDS: the Discord shards this process runs; None: unsharded."""
    metrics: MetricsSettings = field(default_factory=MetricsSettings)
    lease_length: float = 120.0
    """LEASE_LENGTH: clock seconds a process's lease on a job lasts unless renewed (every quarter
    of it); a process frozen or killed longer than this has its jobs taken over by another."""

    def price_per_second(self, resolution: str) -> int:
        return self.price_1080p_milli if resolution == "1080P" else self.price_720p_milli

    @property
    def sqlite_path(self) -> str:
        """The SQLite file of a ``sqlite:///`` DATABASE_URL (``ConfigError`` for another)."""
        where = _database(self.database_url)
        if where.backend != "sqlite":
            raise ConfigError("DATABASE_URL: not a SQLite database (sqlite:///<path>)")
        return where.target


def _database(url: str) -> DatabaseUrl:
    try:
        return parse_database_url(url)
    except BadDatabaseUrl as error:
        raise ConfigError(f"DATABASE_URL: {error}") from None


def load_settings(env: Mapping[str, str] | None = None) -> Settings:
    """Build settings from ``env`` (default ``os.environ``); raise ``ConfigError`` on a bad key."""
    r = Reader(os.environ if env is None else env)
    d, lim = Defaults(), Limits()
    defaults = Defaults(
        resolution=r.get("DEFAULT_RESOLUTION", choice(RESOLUTIONS), d.resolution, "720P or 1080P"),
        duration=r.get(
            "DEFAULT_DURATION",
            int_range(MIN_DURATION, MAX_DURATION),
            d.duration,
            f"{MIN_DURATION}..{MAX_DURATION}",
        ),
        ratio=r.get("DEFAULT_RATIO", choice(RATIOS), d.ratio, "one of " + ", ".join(RATIOS)),
        watermark=r.get("DEFAULT_WATERMARK", bool_value, d.watermark, "true or false"),
        prompt_extend=r.get("DEFAULT_PROMPT_EXTEND", bool_value, d.prompt_extend, "true or false"),
    )
    count = int_range(0, 1000)
    limits = Limits(
        user_daily=r.limit("USER_DAILY_LIMIT_USD", lim.user_daily),
        user_monthly=r.limit("USER_MONTHLY_LIMIT_USD", lim.user_monthly),
        guild_daily=r.limit("GUILD_DAILY_LIMIT_USD", lim.guild_daily),
        guild_monthly=r.limit("GUILD_MONTHLY_LIMIT_USD", lim.guild_monthly),
        max_concurrent_per_user=r.get(
            "MAX_CONCURRENT_PER_USER", count, lim.max_concurrent_per_user, "a whole number"
        ),
        max_queued_per_user=r.get(
            "MAX_QUEUED_PER_USER", count, lim.max_queued_per_user, "a whole number"
        ),
        global_active_cap=r.get(
            "GLOBAL_ACTIVE_TASKS", int_range(1, 100), lim.global_active_cap, "1..100"
        ),
        cooldown_seconds=r.get(
            "COOLDOWN_SECONDS", positive_float(), lim.cooldown_seconds, "seconds >= 0"
        ),
        moderation_cooldowns=r.get(
            "MODERATION_COOLDOWNS",
            parse_ladder,
            lim.moderation_cooldowns,
            "comma-separated durations such as 0,1h,2h,10h (hours unless s, m or h follows)",
        ),
    )
    base = Settings(discord_token=Secret(""), apiyi_api_key=Secret(""))
    settings = Settings(
        discord_token=Secret(r.required("DISCORD_TOKEN")),
        apiyi_api_key=Secret(r.required("APIYI_API_KEY")),
        apiyi_base_url=r.get(
            "APIYI_BASE_URL",
            url_value,
            base.apiyi_base_url,
            "an https URL (http only for 127.0.0.1 or localhost: the API key travels there)",
        ),
        model=r.get("HAPPYHORSE_MODEL", str, base.model, "a model id"),
        database_url=r.get(
            "DATABASE_URL", str, base.database_url, "sqlite:///<path> or postgresql://…"
        ),
        defaults=defaults,
        limits=limits,
        price_720p_milli=r.get(
            "PRICE_720P_USD", usd_to_milli, base.price_720p_milli, "dollars per second"
        ),
        price_1080p_milli=r.get(
            "PRICE_1080P_USD", usd_to_milli, base.price_1080p_milli, "dollars per second"
        ),
        poll_first_delay=r.get(
            "POLL_FIRST_DELAY", positive_float(MIN_POLL_GAP), base.poll_first_delay, "seconds >= 3"
        ),
        poll_interval=r.get(
            "POLL_INTERVAL", positive_float(MIN_POLL_GAP), base.poll_interval, "seconds >= 3"
        ),
        poll_deadline=r.get(
            "POLL_DEADLINE", positive_float(60.0), base.poll_deadline, "seconds >= 60"
        ),
        progress_edit_interval=r.get(
            "PROGRESS_EDIT_INTERVAL",
            positive_float(1.0),
            base.progress_edit_interval,
            "seconds >= 1",
        ),
        discord_timeout=r.get(
            "DISCORD_TIMEOUT", positive_float(1.0), base.discord_timeout, "seconds >= 1"
        ),
        max_video_bytes=r.get(
            "MAX_VIDEO_MB",
            lambda t: int_range(1, 2048)(t) * 1024 * 1024,
            base.max_video_bytes,
            "megabytes 1..2048",
        ),
        api_create_timeout=r.get(
            "API_CREATE_TIMEOUT", positive_float(1.0), base.api_create_timeout, "seconds >= 1"
        ),
        api_poll_timeout=r.get(
            "API_POLL_TIMEOUT", positive_float(1.0), base.api_poll_timeout, "seconds >= 1"
        ),
        api_download_stall=r.get(
            "API_DOWNLOAD_STALL", positive_float(1.0), base.api_download_stall, "seconds >= 1"
        ),
        dev_guild_id=r.optional("DEV_GUILD_ID", snowflake, "a Discord server id"),
        admin_role_id=r.optional("ADMIN_ROLE_ID", snowflake, "a Discord role id"),
        log_level=r.get("LOG_LEVEL", log_level, base.log_level, "DEBUG/INFO/WARNING/ERROR"),
        media=_media_settings(r),
        shards=_shards(r),
        metrics=MetricsSettings(
            port=r.optional("METRICS_PORT", int_range(0, 65535), "a TCP port 0..65535"),
            host=r.get("METRICS_HOST", str, MetricsSettings.host, "an address to bind"),
        ),
        lease_length=r.get(
            "LEASE_LENGTH", positive_float(MIN_LEASE), base.lease_length, "seconds >= 1"
        ),
    )
    _database(settings.database_url)  # validates DATABASE_URL early
    return settings


def _shards(r: Reader) -> ShardPlan | None:
    count = r.optional("SHARD_COUNT", int_range(1, MAX_SHARDS), f"1..{MAX_SHARDS}")
    ids = r.optional("SHARD_IDS", parse_shard_ids, "shard ids like 0,1 or 0-3")
    try:
        return shard_plan(count, ids)
    except ValueError as error:
        raise ConfigError(str(error)) from None


def _media_settings(r: Reader) -> MediaSettings:
    m = MediaSettings()
    return MediaSettings(
        transcode_slots=r.get("TRANSCODE_SLOTS", int_range(1, 16), m.transcode_slots, "1..16"),
        transcode_timeout=r.get(
            "TRANSCODE_TIMEOUT", positive_float(10.0), m.transcode_timeout, "seconds >= 10"
        ),
        archive_dir=r.get("ARCHIVE_DIR", str, m.archive_dir, "a directory path"),
        archive_budget_bytes=r.get(
            "ARCHIVE_BUDGET_GB",
            lambda t: round(positive_float()(t) * 1024**3),
            m.archive_budget_bytes,
            "gigabytes >= 0 (0 keeps no originals)",
        ),
        transcode_niceness=r.get(
            "TRANSCODE_NICENESS", int_range(0, 19), m.transcode_niceness, "0..19"
        ),
        transcode_idle=r.get("TRANSCODE_IDLE", bool_value, m.transcode_idle, "true or false"),
    )


def load_media_settings(env: Mapping[str, str] | None = None) -> MediaSettings:
    """Only the media keys (``TRANSCODE_*``, ``ARCHIVE_*``), as the bot reads them: for tools
    that run ffmpeg the way the bot would (the benchmark's transcode phase) without its token."""
    return _media_settings(Reader(os.environ if env is None else env))
