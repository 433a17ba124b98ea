"""The real bot, wired to the fake Discord and the fake HappyHorse server on one scaled clock.

async with bot_world(tmp_path) as w:
    handle = await w.video(prompt="…", image1=w.image())
    message = await w.result(handle)
"""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import aiohttp

from bot import HHBot
from hh_bot.clock import ScaledClock
from hh_bot.config import Limits, Secret, Settings
from hh_bot.netpolicy import AiohttpResolver, StaticResolver
from hh_bot.references import ReferenceChecker
from hh_bot.services import Services, build_services
from tests.fakes.discord import FakeDiscord
from tests.fakes.discord_harness import ErrorRecorder, running_bot
from tests.fakes.discord_payloads import TEXT_CHANNEL_ID
from tests.fakes.happyhorse import FakeHappyHorse, TaskScript

API_KEY = "sk-live-HHKEY-5f0c1d2e3a4b"
BOT_TOKEN = "MTI1.bot-TOKEN.s3cr3t-value"
FACTOR = 200.0
CDN = "https://cdn.discordapp.com/attachments/1000/{n}/{name}"
# What the link policy believes about the test image host (a public address) …
PUBLIC_IMAGES = "images.example.com"
_ids = itertools.count(1)


def default_limits() -> Limits:
    return Limits(user_daily=None, user_monthly=None, guild_daily=None, max_queued_per_user=20)


@dataclass
class BotWorld:
    clock: ScaledClock
    hh: FakeHappyHorse
    discord: FakeDiscord
    bot: HHBot
    services: Services
    errors: ErrorRecorder
    tmp: Path
    extra: dict[str, Any] = field(default_factory=dict)

    @staticmethod
    def image(
        name: str = "ref.png",
        *,
        size: int = 200_000,
        width: int | None = 800,
        height: int | None = 600,
        content_type: str | None = "image/png",
    ) -> dict[str, Any]:
        """A Discord attachment as the gateway would describe it (metadata only)."""
        n = next(_ids)
        return {
            "filename": name,
            "data": b"\x89PNG" + bytes(16),
            "size": size,
            "width": width,
            "height": height,
            "content_type": content_type,
            "url": CDN.format(n=n, name=name),
        }

    async def video(
        self,
        prompt: str = "character1 rides a horse on the beach",
        *,
        user: int | None = None,
        images: list[dict[str, Any]] | None = None,
        **options: Any,
    ) -> Any:
        opts: dict[str, Any] = {"prompt": prompt, **options}
        for i, image in enumerate(images if images is not None else [self.image()], start=1):
            opts[f"image{i}"] = image
        kw = {"user": user} if user is not None else {}
        return await self.discord.invoke_slash("video", opts, **kw)

    async def private_answer(self, handle: Any, timeout: float = 10.0) -> str:
        """The text of the private (ephemeral) answer to an interaction once it has one."""

        def answered() -> str | None:
            message = self.discord.original_message(handle.token)
            if handle.responded and message is not None and not message.loading:
                return message.content or None
            return None

        return await self.discord.wait_for(answered, timeout=timeout)

    def reply_of(self, handle: Any) -> Any:
        """The public progress reply posted for an interaction (its first public followup)."""
        for message in self.discord.channel_messages(TEXT_CHANNEL_ID):
            if message.interaction_token == handle.token and not message.ephemeral:
                return message
        return None

    async def outcome(self, handle: Any, timeout: float = 15.0) -> Any:
        """The public message that carries the job's final result or failure."""

        def ended() -> Any:
            reply = self.reply_of(handle)
            if reply is None:
                return None
            for message in self.discord.channel_messages(TEXT_CHANNEL_ID):
                if message is reply or message.ephemeral:
                    continue
                if message.reference_id == reply.id:
                    return message
            embeds = reply.embeds
            if embeds and any(k in embeds[0].get("description", "") for k in ("✅", "❌", "⌛")):
                return reply
            return None

        return await self.discord.wait_for(ended, timeout=timeout)

    def creates(self) -> int:
        return len(self.hh.creates())


def settings_for(tmp: Path, hh: FakeHappyHorse, **overrides: Any) -> Settings:
    base = Settings(
        discord_token=Secret(BOT_TOKEN),
        apiyi_api_key=Secret(API_KEY),
        apiyi_base_url=hh.base_url,
        database_url=f"sqlite:///{tmp / 'hh.sqlite3'}",
        limits=default_limits(),
        progress_edit_interval=5.0,
    )
    return replace(base, **overrides)


def offline_checker(image_port: int | None = None, **resolve: list[str]) -> ReferenceChecker:
    """A checker whose link policy sees ``PUBLIC_IMAGES`` as a public host (and ``resolve``'s
    names as given) while its session really connects to 127.0.0.1."""
    policy = {PUBLIC_IMAGES: ["93.184.216.34"], **resolve}
    connect = {name: ["127.0.0.1"] for name in policy}
    session = aiohttp.ClientSession(
        connector=aiohttp.TCPConnector(resolver=AiohttpResolver(StaticResolver(connect))),
        cookie_jar=aiohttp.DummyCookieJar(),
    )
    return ReferenceChecker(session, resolver=StaticResolver(policy))


@asynccontextmanager
async def bot_world(
    tmp: Path,
    *,
    script: TaskScript | None = None,
    factor: float = FACTOR,
    checker: ReferenceChecker | None = None,
    premium_tier: int = 0,
    allow_errors: tuple[type[BaseException], ...] = (),
    **overrides: Any,
) -> AsyncIterator[BotWorld]:
    clock = ScaledClock(factor)
    hh = FakeHappyHorse(api_key=API_KEY, clock=clock, default_script=script or TaskScript())
    await hh.start()
    checker = checker or offline_checker()
    try:
        async with FakeDiscord(token=BOT_TOKEN, premium_tier=premium_tier) as fake:
            settings = settings_for(tmp, hh, **overrides)
            services = await build_services(
                settings, clock=clock, checker=checker, tmp_dir=tmp / "videos"
            )
            bot = HHBot(services)
            errors = ErrorRecorder(allow=allow_errors)
            try:
                async with running_bot(fake, bot, BOT_TOKEN, errors=errors):
                    yield BotWorld(clock, hh, fake, bot, services, errors, tmp)
            finally:
                await services.close()
                if checker._session is not None:
                    await checker._session.close()
    finally:
        await hh.close()
