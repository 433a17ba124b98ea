"""The real bot, wired to the fake Discord and the fake HappyHorse server on one scaled clock.

async with bot_world(tmp_path) as w:
    handle = await w.video("character1 waves", images=[w.image()])
    private = await w.private_answer(handle)    # the ephemeral answer to that user
    result = await w.outcome(handle)            # the public message carrying the result

Two bots (``pytest --bots=2``, or a test marked ``two_bots``): the same world with a second
bot on one PostgreSQL database, as a deployment of two processes runs (see ``TwoBots``).
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import re
import sqlite3
import ssl
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import asyncpg

from bot import HHBot, make_bot
from cogs.ui import strings as s
from hh_bot.app import Services, build_services
from hh_bot.clock import ScaledClock
from hh_bot.config import Limits, Secret, Settings
from hh_bot.jobs.model import FINAL_STATES, Job, JobState
from hh_bot.references.checker import ReferenceChecker
from hh_bot.references.resolvers import StaticResolver
from hh_bot.shards import ShardPlan
from tests.fakes.discord import FakeDiscord
from tests.fakes.discord_harness import ErrorRecorder, running_bot
from tests.fakes.discord_interactions import FakeInteraction
from tests.fakes.discord_payloads import TEXT_CHANNEL_ID, FakeMember, FakeUser, StoredMessage
from tests.fakes.happyhorse import FakeHappyHorse, TaskScript
from tests.fakes.images import POLICY_TABLE, PUBLIC_IMAGES, local_session
from tests.media_clips import media_settings_for_tests
from tests.pg_server import PgServer

__all__ = ["PUBLIC_IMAGES", "BotWorld", "TwoBots", "bot_world", "offline_checker"]

API_KEY = "sk-live-HHKEY-5f0c1d2e3a4b"
BOT_TOKEN = "MTI1.bot-TOKEN.s3cr3t-value"
FACTOR = 200.0
CDN = "https://cdn.discordapp.com/attachments/1000/{n}/{name}"
_ids = itertools.count(1)


@dataclass
class TwoBots:
    """Where a world runs a second bot: ``server`` set (by ``tests/conftest.py`` for a test run
    with two bots), every ``bot_world`` stores in one database on it and starts two bots, as a
    deployment of two processes on one PostgreSQL does. Each bot has its own services (store
    connections, runner, leases, API client, temporary folder) and runs one of two shards:
    the test guild is on shard 0, so the first bot (``BotWorld.bot``) answers its interactions
    while the second shares the database, the global cap, the queue and every job's lease.
    ``lease`` is long so that a loaded machine never hands a job over mid-test: handing over
    has its own tests (the fault row sigstop-past-lease, tests/test_leases.py)."""

    server: PgServer | None = None
    lease: float = 3600.0
    urls: dict[Path, str] = field(default_factory=dict)  # the test's databases, by folder

    async def url_for(self, tmp: Path) -> str:
        """The database of a world in ``tmp``: the same for a restart in the same folder (as
        SQLite's file there would be), a new one for another folder."""
        assert self.server is not None
        if tmp not in self.urls:
            fresh = self.server.fresh_url if self.urls else self.server.emptied_url
            self.urls[tmp] = await fresh()
        return self.urls[tmp]


TWO_BOTS = TwoBots()


def default_limits() -> Limits:
    return Limits(user_daily=None, user_monthly=None, guild_daily=None, max_queued_per_user=20)


def footer_of(message: StoredMessage) -> str | None:
    for embed in message.embeds:
        text = (embed.get("footer") or {}).get("text")
        if text:
            return str(text)
    return None


def description_of(message: StoredMessage) -> str:
    return str(message.embeds[0].get("description", "")) if message.embeds else ""


def is_final(message: StoredMessage) -> bool:
    """Whether a job's embed shows a final state (done, failed, timed out, canceled)."""
    return any(s.STATE_LABEL[state] in description_of(message) for state in FINAL_STATES)


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
    second: HHBot | None = None  # the other bot of a two-bot world (see ``TwoBots``)

    @staticmethod
    def image(
        name: str = "ref.png",
        *,
        size: int = 200_000,
        width: int | None = 800,
        height: int | None = 600,
        content_type: str | None = "image/png",
        url: str | None = None,
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
            "url": url or CDN.format(n=n, name=name),
        }

    def add_member(self, name: str) -> FakeUser:
        """A new user who is a member of the test guild."""
        user = self.discord.add_user(name)
        self.discord.guild.members[user.id] = FakeMember(user)
        return user

    async def video(
        self,
        prompt: str = "character1 rides a horse on the beach",
        *,
        user: Any = None,
        images: list[dict[str, Any]] | None = None,
        attachment_size_limit: int | None = None,
        channel_id: int | None = None,
        **options: Any,
    ) -> FakeInteraction:
        """Run /video as a Discord client would send it (one image unless ``images`` says)."""
        opts: dict[str, Any] = {"prompt": prompt, **options}
        for i, image in enumerate(images if images is not None else [self.image()], start=1):
            opts[f"image{i}"] = image
        kw: dict[str, Any] = {"user": user} if user is not None else {}
        return await self.discord.invoke_slash(
            "video",
            opts,
            attachment_size_limit=attachment_size_limit,
            channel_id=channel_id,
            **kw,
        )

    async def private_answer(self, handle: FakeInteraction, timeout: float = 10.0) -> str:
        """The text of the private (ephemeral) answer to an interaction once it has one."""

        def answered() -> str | None:
            message = self.discord.original_message(handle.token)
            if handle.responded and message is not None and not message.loading:
                assert message.ephemeral, f"the answer is public: {message.content!r}"
                return message.content or None
            return None

        return await self.discord.wait_for(answered, timeout=timeout)

    def reply_of(self, handle: FakeInteraction) -> StoredMessage | None:
        """The public progress reply posted for an interaction (even if a user deleted it)."""
        for message in self.discord.messages.values():
            if message.interaction_token == handle.token and not message.ephemeral:
                return message
        return None

    async def wait_reply(self, handle: FakeInteraction, timeout: float = 10.0) -> StoredMessage:
        reply = await self.discord.wait_for(lambda: self.reply_of(handle), timeout=timeout)
        assert reply is not None
        return reply

    def job_id_of(self, handle: FakeInteraction) -> str:
        reply = self.reply_of(handle)
        assert reply is not None, "no public reply yet"
        footer = footer_of(reply)
        # "job <id>", or the server's language's word for it ("任务 <id>")
        assert footer is not None and re.fullmatch(r"\S+ [0-9a-f]{6,32}", footer), footer
        return footer.rsplit(" ", 1)[1]

    async def job_of(self, handle: FakeInteraction) -> Job:
        job = await self.services.store.get_job(self.job_id_of(handle))
        assert job is not None
        return job

    def _posted_outcome(self, reply: StoredMessage, user_id: int) -> StoredMessage | None:
        """A message posted separately for the job: in the channel replying to the progress
        reply, or in the user's DMs carrying the job's footer."""
        for message in self.discord.channel_messages(reply.channel_id):
            if message is not reply and not message.ephemeral and message.reference_id == reply.id:
                return message
        footer = footer_of(reply)
        for message in self.discord.dm_messages(user_id):
            if footer is not None and footer_of(message) == footer:
                return message
        return None

    async def outcome(self, handle: FakeInteraction, timeout: float = 15.0) -> StoredMessage:
        """The public message that carries the job's final result or failure."""

        def ended() -> StoredMessage | None:
            reply = self.reply_of(handle)
            if reply is None:
                return None
            posted = self._posted_outcome(reply, handle.user.id)
            if posted is not None:
                return posted
            return reply if is_final(reply) and not reply.deleted else None

        return await self.discord.wait_for(ended, timeout=timeout)

    def public_messages(self, channel_id: int = TEXT_CHANNEL_ID) -> list[StoredMessage]:
        """Live messages of the channel that everybody sees (no ephemeral ones)."""
        return [m for m in self.discord.channel_messages(channel_id) if not m.ephemeral]

    async def rows(self) -> tuple[int, int]:
        """(jobs stored, ledger entries): both zero when nothing was admitted or charged."""
        jobs = await self.services.store.jobs_in_states(list(JobState))
        return len(jobs), len(await self.services.store.ledger())

    def creates(self) -> int:
        return len(self.hh.creates())

    async def sql(self, statement: str, *args: object) -> None:
        """Change the bot's database behind its back, as an operator or a forged message
        could have it (``?`` placeholders), on whichever backend the world uses."""
        url = self.services.settings.database_url
        if url.startswith("sqlite:///"):

            def run() -> None:  # in a thread: the bot's own connection needs the loop meanwhile
                with contextlib.closing(
                    sqlite3.connect(url[len("sqlite:///") :], timeout=30)
                ) as db:
                    db.execute(statement, args)
                    db.commit()

            await asyncio.to_thread(run)
            return
        numbers = itertools.count(1)
        numbered = re.sub(r"\?", lambda _: f"${next(numbers)}", statement)
        con = await asyncpg.connect(url)
        try:
            await con.execute(numbered, *args)
        finally:
            await con.close()


def dm_payload(fake: FakeDiscord, payload: dict[str, Any]) -> dict[str, Any]:
    """The same interaction as if sent from the user's DMs (what a guild-only command would
    get if Discord let it through, or an old client sent it)."""
    member = payload["member"]
    user = fake.user(int(member["user"]["id"]))
    dm = fake.dm_channel(user)
    out = {k: v for k, v in payload.items() if k not in ("guild_id", "guild", "member")}
    out.pop("guild_locale", None)
    data = dict(out.get("data") or {})
    data.pop("guild_id", None)
    out.update(
        data=data,
        user=user.payload(),
        channel_id=str(dm.id),
        channel=dm.payload(),
        authorizing_integration_owners={"0": "0"},
        context=1,
    )
    return out


def modal_inputs(data: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The text inputs of a modal the bot opened, by custom_id (label, value, required …)."""
    found: dict[str, dict[str, Any]] = {}
    for row in data.get("components") or []:
        for comp in [*(row.get("components") or []), row.get("component") or {}]:
            if comp.get("type") == 4:
                found[str(comp["custom_id"])] = {
                    **comp,
                    "label": comp.get("label", row.get("label")),
                }
    return found


def settings_for(tmp: Path, hh: FakeHappyHorse, **overrides: Any) -> Settings:
    base = Settings(
        discord_token=Secret(BOT_TOKEN),
        apiyi_api_key=Secret(API_KEY),
        apiyi_base_url=hh.base_url,
        database_url=f"sqlite:///{tmp / 'hh.sqlite3'}",
        limits=default_limits(),
        progress_edit_interval=5.0,
        # No archive unless a test asks for one (tests.test_e2e_fitting, the media rows);
        # ffmpeg at the test's own priority (see tests.media_clips).
        media=media_settings_for_tests(tmp, archive_budget_bytes=0),
    )
    return replace(base, **overrides)


def offline_checker(
    ssl_context: ssl.SSLContext | None = None,
    resolve: Mapping[str, list[str]] | None = None,
) -> ReferenceChecker:
    """A checker whose link policy sees the hosts of ``tests.fakes.images`` (and ``resolve``'s
    names) as given there, while its session really connects them to 127.0.0.1, trusting
    ``ssl_context`` (the image host's test CA)."""
    policy = {**POLICY_TABLE, **(resolve or {})}
    session = local_session(policy, ssl_context)
    return ReferenceChecker(session, resolver=StaticResolver(policy), probe_timeout=2.0)


@asynccontextmanager
async def bot_world(
    tmp: Path,
    *,
    script: TaskScript | None = None,
    factor: float = FACTOR,
    checker: ReferenceChecker | None = None,
    premium_tier: int = 0,
    allow_errors: tuple[type[BaseException], ...] = (),
    hh_class: type[FakeHappyHorse] = FakeHappyHorse,
    **overrides: Any,
) -> AsyncIterator[BotWorld]:
    clock = ScaledClock(factor)
    hh = hh_class(api_key=API_KEY, clock=clock, default_script=script or TaskScript())
    await hh.start()
    checker = checker or offline_checker()
    world: BotWorld | None = None
    server = TWO_BOTS.server
    if server is not None:
        overrides = {
            "database_url": await TWO_BOTS.url_for(tmp),
            "lease_length": TWO_BOTS.lease,
            **overrides,
        }
    try:
        async with FakeDiscord(token=BOT_TOKEN, premium_tier=premium_tier) as fake:
            settings = settings_for(tmp, hh, **overrides)
            if server is not None:
                settings = replace(settings, shards=ShardPlan(2, (0,)))
            services = await build_services(
                settings, clock=clock, checker=checker, tmp_dir=tmp / "videos"
            )
            bot = HHBot(services) if server is None else make_bot(services, force_sync=False)
            errors = ErrorRecorder(allow=allow_errors)
            try:
                async with running_bot(fake, bot, BOT_TOKEN, errors=errors):
                    world = BotWorld(clock, hh, fake, bot, services, errors, tmp)
                    if server is None:
                        yield world
                    else:
                        async with _second_bot(world, settings) as world.second:
                            yield world
            finally:
                for task in world.extra.get("tasks", []) if world else []:
                    task.cancel()
                await services.close()
                if checker._session is not None:
                    await checker._session.close()
    finally:
        await hh.close()


@asynccontextmanager
async def _second_bot(world: BotWorld, settings: Settings) -> AsyncIterator[HHBot]:
    """The second bot of a two-bot world: shard 1 of 2 on the first one's database."""
    checker = offline_checker()
    services = await build_services(
        replace(settings, shards=ShardPlan(2, (1,))),
        clock=world.clock,
        checker=checker,
        tmp_dir=world.tmp / "videos-second",
    )
    bot = make_bot(services, force_sync=False)
    try:
        async with running_bot(world.discord, bot, BOT_TOKEN, errors=world.errors):
            yield bot
    finally:
        await services.close()
        if checker._session is not None:
            await checker._session.close()
