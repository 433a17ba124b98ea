"""Posts the audit channel's lines: the bot's ``EventSink`` (``hh_bot.access.audit``).

``emit`` only queues: each server has its own queue, drained in order by one task while it has
lines, so a job is never slowed or failed by its audit line, and a slow or broken audit channel
holds up only that server's lines. Every post goes through the bot's one channel budget
(``cogs/pacing.py``) and carries ``allowed_mentions`` none: a line names members, never pings.

After a job is admitted the server's budget is checked (``hh_bot.access.alerts``) and a
threshold crossed is announced in the channel, and in a DM to the admin who asked for one.
Only servers with an audit channel are checked: one set later announces what is crossed by
then, at the next admission.

When the bot can't post there (403 Missing Access 50001 / Missing Permissions 50013, 404
Unknown Channel 10003) the admin who set the channel gets ONE DM saying so; the "told" mark is
kept with the setting (so a restart or another process does not tell again) and cleared by the
next post that works. Any other failure (a 5xx discord.py gave up on, a dropped connection)
loses that one line, logged; discord.py itself waits out a 429.
"""

from __future__ import annotations

import asyncio
import collections
import logging
from dataclasses import replace
from typing import TYPE_CHECKING

import discord

from cogs.audit_post_lines import alert_line, line_of, strike_line
from cogs.notice import TRANSPORT, UNREACHED
from cogs.pacing import ChannelPacer
from cogs.ui import strings as s
from hh_bot.access.alerts import BudgetAlert
from hh_bot.access.audit import (
    AuditChannel,
    AuditEvent,
    JobAdmitted,
    JobEnded,
    guild_of,
    is_strike,
)

if TYPE_CHECKING:
    from bot import HHBot

log = logging.getLogger(__name__)

CANNOT_POST = frozenset({50001, 50013, 10003})
MAX_WAITING = 10_000  # lines queued across servers before new ones are dropped (logged)
QUIET = discord.AllowedMentions.none()


class AuditPoster:
    def __init__(self, bot: HHBot, pacer: ChannelPacer) -> None:
        self._bot = bot
        self._pacer = pacer
        self._queues: dict[int, collections.deque[AuditEvent]] = collections.defaultdict(
            collections.deque
        )
        self._workers: dict[int, asyncio.Task[None]] = {}
        self.idle = asyncio.Event()
        """Set while no line waits or is being posted (tests wait on it)."""
        self.idle.set()

    # -- the core's sink -----------------------------------------------------------------------

    def emit(self, event: AuditEvent) -> None:
        guild_id = guild_of(event)
        if guild_id is None:
            return
        if sum(len(q) for q in self._queues.values()) >= MAX_WAITING:
            log.warning("audit: %d lines waiting; dropping a new one", MAX_WAITING)
            return
        self._queues[guild_id].append(event)
        self.idle.clear()
        if guild_id not in self._workers:
            task = asyncio.create_task(self._drain(guild_id), name=f"hh-audit-{guild_id}")
            self._workers[guild_id] = task

    async def close(self) -> None:
        """Stop posting; lines still queued are lost (the audit channel is a log)."""
        workers = list(self._workers.values())
        for task in workers:
            task.cancel()
        await asyncio.gather(*workers, return_exceptions=True)

    # -- one server's queue --------------------------------------------------------------------

    async def _drain(self, guild_id: int) -> None:
        queue = self._queues[guild_id]
        try:
            while queue:
                event = queue.popleft()
                try:
                    await self._handle(guild_id, event)
                except Exception:
                    log.exception("audit: an event of server %s could not be handled", guild_id)
        finally:
            self._workers.pop(guild_id, None)
            if not queue:
                self._queues.pop(guild_id, None)
            if not self._workers:
                self.idle.set()

    async def _handle(self, guild_id: int, event: AuditEvent) -> None:
        services = self._bot.services
        if services.audit is None:
            return
        setting = await services.audit.get(guild_id)
        if setting is None:
            return
        lines = [line_of(event)]
        alerts: list[BudgetAlert] = []
        if isinstance(event, JobAdmitted) and services.alerts is not None:
            alerts = await services.alerts.check(guild_id)
        elif isinstance(event, JobEnded) and is_strike(event.error):
            standing = await services.quota.strikes(guild_id, event.job.user_id)
            lines.append(strike_line(event.job.user_id, standing))
        lines += [alert_line(alert) for alert in alerts]
        for line in lines:
            setting = await self._post(guild_id, setting, line)
        if alerts and setting.alert_dm is not None:
            for alert in alerts:
                await self._dm(setting.alert_dm, alert_line(alert))

    async def _post(self, guild_id: int, setting: AuditChannel, text: str) -> AuditChannel:
        """Post one line; the setting as it now is (its "told" mark may have changed)."""
        channel = self._bot.get_partial_messageable(setting.channel_id, guild_id=guild_id)
        try:
            async with await self._pacer.slot(setting.channel_id):
                await channel.send(text, allowed_mentions=QUIET)
        except discord.HTTPException as error:
            if error.code in CANNOT_POST:
                return await self._cannot_post(guild_id, setting, error.code)
            log.warning("audit: a line for server %s was lost (HTTP %s)", guild_id, error.status)
            return setting
        except TRANSPORT as error:
            log.warning("audit: a line for server %s was lost (%s)", guild_id, type(error).__name__)
            return setting
        if setting.told:  # it works again: a later failure is worth telling again
            setting = await self._mark_told(guild_id, setting, told=False)
        return setting

    async def _cannot_post(self, guild_id: int, setting: AuditChannel, code: int) -> AuditChannel:
        log.warning("audit: cannot post in channel %s (code %s)", setting.channel_id, code)
        if setting.told:
            return setting
        guild = self._bot.get_guild(guild_id)
        text = s.AUDIT_CANNOT_POST.format(
            channel=f"<#{setting.channel_id}>",
            server=discord.utils.escape_markdown(guild.name) if guild else str(guild_id),
            why=s.AUDIT_WHY.get(code, str(code)),
        )
        await self._dm(setting.set_by, text)
        return await self._mark_told(guild_id, setting, told=True)

    async def _mark_told(self, guild_id: int, setting: AuditChannel, *, told: bool) -> AuditChannel:
        """Store the "told" mark on the setting, unless an admin changed the channel meanwhile."""
        assert self._bot.services.audit is not None
        audit = self._bot.services.audit
        current = await audit.get(guild_id)
        if current is None or current.channel_id != setting.channel_id:
            return setting
        changed = replace(current, told=told)
        await audit.set(guild_id, changed)
        return changed

    async def _dm(self, user_id: int, text: str) -> None:
        """A private note to an admin; one that can't be delivered is only logged."""
        try:
            user = self._bot.get_user(user_id) or await self._bot.fetch_user(user_id)
            dm = await user.create_dm()
            async with await self._pacer.slot(dm.id):
                await dm.send(text, allowed_mentions=QUIET)
        except UNREACHED as error:
            log.warning("audit: could not DM admin %s (%s)", user_id, type(error).__name__)
