"""hh-bot entry point: load settings, build the services once, run the bot, close cleanly.

python bot.py           start the bot (commands are synced only when they changed)
python bot.py --sync    force a command sync on this start

When Discord can't be reached the process says why in one line and tries again, with backoff,
until it can; SIGINT or SIGTERM stops it at any point. With SHARD_COUNT / SHARD_IDS the bot is
an ``AutoShardedBot`` running those shards, after claiming them in the store (``shards.py``): a
process started with shards another live process runs exits 2 with one line.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import hashlib
import json
import logging
import signal
import sys
from collections.abc import Sequence
from typing import Any

import discord
from discord.ext import commands
from dotenv import load_dotenv

from cogs.actions import JobActions
from cogs.audit_post import AuditPoster
from cogs.delivery import DiscordDelivery
from cogs.http_timeout import set_discord_timeout
from cogs.iterate import Iterate
from cogs.ui.buttons import JobButton
from cogs.ui.errors import HHTree
from cogs.ui.locale_hook import install_locale_hook, install_wire_rendering
from cogs.ui.translator import CatalogueTranslator
from hh_bot.app import Services, build_services
from hh_bot.clock import Clock
from hh_bot.config import ConfigError, Settings, load_settings
from hh_bot.logs import setup_logging
from hh_bot.observability.server import MetricsUnavailable
from hh_bot.reachability import UNREACHABLE, ReconnectBackoff, describe
from hh_bot.references.checker import ReferenceChecker
from hh_bot.reports.charts import warm_up
from hh_bot.shards import ShardClaims, ShardsInUse
from hh_bot.store.interface import StoreUnavailable

log = logging.getLogger("hh_bot")

# cogs.admin_rules and cogs.admin_audit add subcommands to cogs.admin's /hh-admin group: they
# load after it.
EXTENSIONS = (
    "cogs.video", "cogs.account", "cogs.admin", "cogs.settings", "cogs.show", "cogs.admin_rules",
    "cogs.admin_audit",
)  # fmt: skip


class HHBot(commands.Bot):
    def __init__(
        self,
        services: Services,
        *,
        force_sync: bool = False,
        guild_ready_timeout: float = 2.0,
        **options: Any,
    ) -> None:
        intents = discord.Intents.none()
        intents.guilds = True
        trace = services.discord_trace()  # counts 429s for /metrics (METRICS_PORT)
        if trace is not None:
            options["http_trace"] = trace
        super().__init__(
            command_prefix=commands.when_mentioned,
            intents=intents,
            tree_cls=HHTree,
            help_command=None,
            allowed_mentions=discord.AllowedMentions.none(),
            guild_ready_timeout=guild_ready_timeout,
            **options,
        )
        self.services = services
        install_locale_hook(self)  # each interaction in its user's language
        install_wire_rendering()
        services.watch_gateway(self.gateway_connected)
        self.force_sync = force_sync
        self.job_actions = JobActions(self)
        self.iterate = Iterate(self)  # Retry, Remix, Continue, Parameters on results
        self.delivery = DiscordDelivery(self, services.clock)
        self.audit = AuditPoster(self, self.delivery.pacer)  # the audit channel's lines
        self._chart_warm_up: asyncio.Task[None] | None = None

    async def setup_hook(self) -> None:
        set_discord_timeout(self, self.services.settings.discord_timeout)  # after login
        await self.tree.set_translator(CatalogueTranslator())  # zh-CN command names
        for extension in EXTENSIONS:
            await self.load_extension(extension)
        self.add_dynamic_items(JobButton)
        await sync_commands(self, force=self.force_sync)
        await self.services.start_runner(self.delivery, events=self.audit)
        # Scheduled, not awaited: loading matplotlib must not delay readiness.
        self._chart_warm_up = asyncio.create_task(asyncio.to_thread(warm_up))
        self._chart_warm_up.add_done_callback(_warmed_up)

    def gateway_connected(self) -> bool:
        """Ready and every gateway websocket open (what /healthz reports): the one of a plain
        bot, or each shard's once the bot is an AutoShardedBot (whose ``ws`` stays None)."""
        if not self.is_ready() or self.is_closed():
            return False
        if isinstance(self, discord.AutoShardedClient):
            return bool(self.shards) and not any(s.is_closed() for s in self.shards.values())
        return self.ws is not None and self.ws.open

    async def close(self) -> None:
        with contextlib.suppress(RuntimeError):
            await self.services.runner.stop()
        await self.audit.close()
        await super().close()


def _warmed_up(task: asyncio.Task[None]) -> None:
    """A failed warm-up only makes the first chart slower (and will fail it the same way)."""
    if not task.cancelled() and task.exception() is not None:
        log.warning("charts: warm-up failed (%s)", type(task.exception()).__name__)


class ShardedHHBot(HHBot, commands.AutoShardedBot):
    """The bot running some of the shards (``shard_count``, ``shard_ids``) in this process."""


def make_bot(services: Services, *, force_sync: bool) -> HHBot:
    """Unsharded unless SHARD_COUNT is set; then an ``AutoShardedBot`` on this process's shards."""
    plan = services.settings.shards
    if plan is None:
        return HHBot(services, force_sync=force_sync)
    return ShardedHHBot(
        services, force_sync=force_sync, shard_count=plan.count, shard_ids=list(plan.ids)
    )


async def command_digest(bot: HHBot, guild: discord.abc.Snowflake | None) -> str:
    """A hash of what a sync would send, localisations included (a new translation syncs)."""
    tree, translator = bot.tree, bot.tree.translator
    commands_ = tree.get_commands(guild=guild)
    if translator is None:
        payload = [c.to_dict(tree) for c in commands_]
    else:
        payload = [await c.get_translated_payload(tree, translator) for c in commands_]
    payload.sort(key=lambda c: (c.get("type", 1), c["name"]))
    return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()


async def sync_commands(bot: HHBot, *, force: bool) -> bool:
    """Sync to the dev guild when configured, else globally; only when the set changed."""
    guild_id = bot.services.settings.dev_guild_id
    guild = discord.Object(guild_id) if guild_id else None
    if guild is not None:
        bot.tree.copy_global_to(guild=guild)
    key = f"commands:{guild_id or 'global'}"
    digest = await command_digest(bot, guild)
    store = bot.services.store
    if not force and await store.get_setting("bot", key) == digest:
        log.info("application commands unchanged; not syncing")
        return False
    await bot.tree.sync(guild=guild)
    await store.set_setting("bot", key, digest)
    log.info("application commands synced to %s", f"guild {guild_id}" if guild else "all servers")
    return True


async def run(
    settings: Settings,
    *,
    force_sync: bool = False,
    clock: Clock | None = None,
    checker: ReferenceChecker | None = None,
    backoff: ReconnectBackoff | None = None,
) -> None:
    """Run until the bot closes or SIGINT/SIGTERM arrives; always close every service."""
    services = await build_services(settings, clock=clock, checker=checker)
    claims = None
    if settings.shards is not None:
        claims = ShardClaims(services.store, services.clock, settings.shards)
        try:
            await claims.claim()
        except BaseException:
            await services.close()
            raise
    keeping = asyncio.create_task(claims.keep()) if claims is not None else None
    stopping = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(sig, stopping.set)
    try:
        await run_until_stopped(
            services, stopping, force_sync=force_sync, backoff=backoff or ReconnectBackoff()
        )
    finally:
        if keeping is not None and claims is not None:
            keeping.cancel()
            await claims.release()
        await services.close()


async def run_until_stopped(
    services: Services, stopping: asyncio.Event, *, force_sync: bool, backoff: ReconnectBackoff
) -> None:
    """Run the bot until it closes or ``stopping`` is set.

    While Discord can't be reached (no DNS, refused, timed out, a 5xx after discord.py's own
    retries) each attempt ends in one warning line that says why, and the next one follows after
    a capped, jittered backoff. A stop request ends the wait, or an attempt still logging in, at
    once; a bot that is up closes cleanly (its runner waits for creates already sent).
    """
    token = services.settings.discord_token.reveal()
    while not stopping.is_set():
        bot = make_bot(services, force_sync=force_sync)
        attempt = asyncio.create_task(_start(bot, token))
        if not await _finished_first(attempt, stopping):
            if bot.user is not None:  # logged in: a clean close, then start() returns
                await bot.close()
            else:
                attempt.cancel()
        await asyncio.wait({attempt})
        if attempt.cancelled() or stopping.is_set():
            return
        error = attempt.exception()
        if error is None:
            return  # closed by itself
        if not isinstance(error, (*UNREACHABLE, discord.DiscordServerError)):
            raise error
        delay = backoff.next_delay()
        log.warning("cannot reach Discord: %s; retrying in %.0f s", _why(error), delay)
        pause = asyncio.ensure_future(services.clock.sleep(delay))
        if not await _finished_first(pause, stopping):
            pause.cancel()


async def _start(bot: HHBot, token: str) -> None:
    async with bot:
        await bot.start(token)


async def _finished_first(work: asyncio.Future[Any], stopping: asyncio.Event) -> bool:
    """Wait for ``work`` or for ``stopping``, whichever comes first: True when ``work`` did
    (it is left running otherwise)."""
    stop: asyncio.Future[Any] = asyncio.ensure_future(stopping.wait())
    try:
        done, _ = await asyncio.wait({work, stop}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        stop.cancel()
    return work in done


def _why(error: BaseException) -> str:
    if isinstance(error, discord.DiscordServerError):
        return f"Discord answered HTTP {error.status}"
    return describe(error)


def main(argv: Sequence[str] | None = None, *, clock: Clock | None = None) -> int:
    parser = argparse.ArgumentParser(description="hh-bot: Discord bot for HappyHorse videos")
    parser.add_argument("--sync", action="store_true", help="force a command sync on start")
    args = parser.parse_args(argv)
    load_dotenv()
    try:
        settings = load_settings()
    except ConfigError as error:
        print(f"hh-bot: configuration error: {error}", file=sys.stderr)
        return 2
    # The bot has no voice: don't warn about missing voice libraries on every start.
    discord.VoiceClient.warn_nacl = discord.VoiceClient.warn_dave = False
    setup_logging(
        settings.log_level,
        [settings.discord_token.reveal(), settings.apiyi_api_key.reveal()],
    )
    try:
        asyncio.run(run(settings, force_sync=args.sync, clock=clock))
    except discord.LoginFailure:
        log.error("Discord refused the bot token (DISCORD_TOKEN)")
        return 1
    except (StoreUnavailable, MetricsUnavailable) as error:  # one line, no traceback
        log.error("%s", error)
        return 1
    except ShardsInUse as error:  # another process runs these shards: one line
        log.error("%s", error)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
