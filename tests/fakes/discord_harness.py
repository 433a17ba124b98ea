"""Run a real discord.py bot against FakeDiscord.

    async with FakeDiscord() as fake, running_bot(fake, make_bot()) as bot:
        handle = await fake.invoke_slash("ping")
        await fake.wait_for(lambda: fake.original_message(handle.token))

`running_bot` patches discord.py's two process-global endpoints, starts the bot, waits for the
gateway IDENTIFY, and on exit closes the bot and fails the test if the bot raised anything
discord.py would only have logged (see ErrorRecorder).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from typing import Any, TypeVar

import discord
import discord.gateway
import discord.http
import yarl
from discord import app_commands

from tests.fakes.discord import FakeDiscord

ClientT = TypeVar("ClientT", bound=discord.Client)


@contextlib.contextmanager
def patched_discord(fake: FakeDiscord) -> Iterator[None]:
    """Point discord.py's REST base and default gateway at the fake; restore them after."""
    old_base = discord.http.Route.BASE
    old_gateway = discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY
    discord.http.Route.BASE = f"{fake.url}/api/v10"
    discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(fake.gateway.url)
    try:
        yield
    finally:
        discord.http.Route.BASE = old_base
        discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = old_gateway


@dataclass
class RecordedError:
    where: str  # "app command", or the discord.py log message ("Ignoring exception in view …")
    error: BaseException
    interaction: discord.Interaction[Any] | None = None

    @property
    def original(self) -> BaseException:
        """The exception the command raised (unwraps CommandInvokeError)."""
        if isinstance(self.error, app_commands.CommandInvokeError):
            return self.error.original
        return self.error


class ErrorRecorder(logging.Handler):
    """Records what discord.py would only log, so tests fail instead of timing out:

    * every `CommandTree.on_error` call (wrapped on the bot's tree; the tree's own handler still
      runs) — expected ones can be allowed by type (`allow=`, matched against the unwrapped
      error) or consumed with `take()`;
    * every "Ignoring exception in …" record of the `discord` logger: view, modal, dynamic
      item and event-listener errors, and app-command errors nobody handled.
    """

    def __init__(self, *, allow: tuple[type[BaseException], ...] = ()) -> None:
        super().__init__(logging.ERROR)
        self.allow = allow
        self.errors: list[RecordedError] = []
        self.after_close: list[RecordedError] = []  # shutdown artifacts, never fail a test
        self.closing = False
        self._fake: FakeDiscord | None = None
        # (tree, whether it had its own on_error, that handler): one per bot installed, so
        # one recorder can watch several bots at once (tests.bot_world's two-bot mode)
        self._trees: list[tuple[app_commands.CommandTree[Any], bool, Any]] = []
        self._installs = 0

    # logging.Handler
    def emit(self, record: logging.LogRecord) -> None:
        if not str(record.msg).startswith("Ignoring exception") or not record.exc_info:
            return
        error = record.exc_info[1]
        if error is None or any(e.error is error for e in self.errors):
            return
        self._add(RecordedError(record.getMessage(), error))

    def _add(self, entry: RecordedError) -> None:
        if self.closing:
            self.after_close.append(entry)
            return
        self.errors.append(entry)
        if self._fake is not None:
            self._fake.notify_soon()

    def unexpected(self) -> list[RecordedError]:
        return [e for e in self.errors if not isinstance(e.original, self.allow)]

    def take(self) -> list[RecordedError]:
        """Return and forget everything recorded so far (for tests that expect errors)."""
        taken, self.errors = self.errors, []
        return taken

    def problem(self) -> str | None:
        bad = self.unexpected()
        if not bad:
            return None
        lines = [f"  {e.where}: {type(e.original).__name__}: {e.original}" for e in bad]
        return "the bot raised (see ErrorRecorder):\n" + "\n".join(lines)

    def check(self) -> None:
        problem = self.problem()
        if problem:
            raise AssertionError(problem)

    def install(self, bot: discord.Client, fake: FakeDiscord | None = None) -> None:
        logging.getLogger("discord").addHandler(self)  # once: the logger keeps no duplicates
        self._installs += 1
        self.closing = False
        if fake is not None and self._fake is None:
            self._fake = fake
            fake.add_abort_check(self.problem)
        tree = getattr(bot, "tree", None)
        if isinstance(tree, app_commands.CommandTree):
            self._trees.append((tree, "on_error" in vars(tree), vars(tree).get("on_error")))
            original = tree.on_error

            async def on_error(
                interaction: discord.Interaction[Any], error: app_commands.AppCommandError
            ) -> None:
                self._add(RecordedError("app command", error, interaction))
                await original(interaction, error)

            tree.on_error = on_error  # type: ignore[method-assign]

    def uninstall(self) -> None:
        """Undo the latest ``install``; the last one also stops listening."""
        if self._trees:
            tree, had_own, own = self._trees.pop()
            if had_own:
                tree.on_error = own  # type: ignore[method-assign]
            else:
                del tree.on_error
        self._installs -= 1
        if self._installs > 0:
            return
        logging.getLogger("discord").removeHandler(self)
        if self._fake is not None:
            self._fake.remove_abort_check(self.problem)
            self._fake = None


@contextlib.asynccontextmanager
async def running_bot(
    fake: FakeDiscord,
    bot: ClientT,
    token: str | None = None,
    *,
    errors: ErrorRecorder | None = None,
    wait_ready: bool = False,
    guild_ready_timeout: float | None = 0.05,
    startup_timeout: float = 5.0,
) -> AsyncIterator[ClientT]:
    """Start `bot` against the fake; yield once its gateway session is identified (READY and
    GUILD_CREATE sent; pass wait_ready=True to also await on_ready). On exit close the bot,
    check its task ended cleanly, and fail on errors the ErrorRecorder caught.

    `guild_ready_timeout` overrides discord.py's 2 s wait after the last GUILD_CREATE (a
    private attribute; None leaves the bot's own setting)."""
    recorder = errors or ErrorRecorder()
    if guild_ready_timeout is not None:
        bot._connection.guild_ready_timeout = guild_ready_timeout
    with patched_discord(fake):
        recorder.install(bot, fake)
        try:
            before = fake.gateway.identify_count
            task = asyncio.create_task(bot.start(token or fake.token), name="fake-discord-bot")
            task.add_done_callback(lambda _: fake.notify_soon())
            try:
                await fake.wait_for(
                    lambda: task.done() or fake.gateway.identify_count > before,
                    timeout=startup_timeout,
                )
                if task.done():
                    task.result()
                    raise RuntimeError("the bot stopped during startup")
                if wait_ready:
                    await asyncio.wait_for(bot.wait_until_ready(), startup_timeout)
                yield bot
            finally:
                recorder.closing = True  # requests cut off by close() are not the bot's bugs
                await bot.close()
                await asyncio.wait_for(task, startup_timeout)
            recorder.check()
        finally:
            recorder.uninstall()
