"""What the bot already posted for a job, found by reading history.

Telling is idempotent because a restart (or an answer the network lost) may repeat it: before
posting, the messages after the job's reply in the channel (or DM) are searched for the job's
marker; a progress reply whose post went unanswered is looked for among the channel's latest
messages. Reads change nothing, so one the network failed is simply made again.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable
from typing import TypeVar

import discord

from cogs.notice import TRANSPORT, UNREACHED
from cogs.ui.embeds import footer_marks
from hh_bot.jobs.model import Job

log = logging.getLogger(__name__)

HISTORY_SCAN = 200  # messages read after the reply when looking for a notice already posted
REPLY_SCAN = 50  # latest messages read for a progress reply whose post went unanswered
T = TypeVar("T")


async def quietly(call: Awaitable[T]) -> T | None:
    """A read that may fail for any Discord or network reason: None then."""
    try:
        return await call
    except UNREACHED:
        return None


class PostedSearch:
    def __init__(self, bot: discord.Client):
        self._bot = bot

    async def notice(self, job: Job, target: discord.abc.Messageable) -> discord.Message | None:
        """This job's notice among the messages of ``target``, if already posted. A read the
        network failed is made again, once."""
        try:
            return await self.scan(job, target)
        except TRANSPORT as error:
            log.info("job %s: history unanswered (%s), reading again", job.id, type(error).__name__)
            return await self.scan(job, target)

    async def scan(self, job: Job, target: discord.abc.Messageable) -> discord.Message | None:
        """Everything after the progress reply (bounded), else the most recent messages."""
        me = self._bot.user
        reply_id = job.reply.message_id
        after = discord.Object(reply_id) if reply_id is not None else None
        async for message in target.history(limit=HISTORY_SCAN, after=after):
            if (
                me is not None
                and message.author.id == me.id
                and message.id != reply_id  # the reply carries the marker too
                and footer_marks(message, job.id)
            ):
                return message
        return None

    async def reply(self, job: Job) -> int | None:
        """The id of the job's progress reply among the channel's latest messages, if a post
        of it landed although its answer was lost; None when not found or not readable."""
        channel = self._bot.get_partial_messageable(job.reply.channel_id)
        me = self._bot.user

        async def scan() -> int | None:
            async for message in channel.history(limit=REPLY_SCAN):
                if me is not None and message.author.id == me.id and footer_marks(message, job.id):
                    return message.id
            return None

        return await quietly(scan())
