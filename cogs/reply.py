"""A job's progress reply: the one message every stage of the job is shown in.

While the interaction token lives (minus a safety margin) the reply is edited through it; after
that, or once Discord calls the token gone (50027 and kin: never used again for that job), the
bot edits it as its own message. A reply Discord will take no more edits of (deleted, 10008, or
an hour-old reply past its edit allowance, 30046) is left alone from then on: what is left to
say is posted instead. Edits are best effort: whatever goes wrong, the caller learns only
whether the edit went through.
"""

from __future__ import annotations

import logging
from typing import Any

import discord

from cogs.notice import NO_MORE_EDITS, TOKEN_GONE, TRANSPORT, Notice, code_of
from cogs.pacing import ChannelPacer
from cogs.ui.embeds import shows_state
from hh_bot.clock import Clock
from hh_bot.jobs.model import Job

log = logging.getLogger(__name__)

TOKEN_MARGIN = 60.0  # stop using an interaction token this long before it expires


class JobReply:
    """Edits and reads of each job's progress reply, and what Discord said about it."""

    def __init__(
        self, bot: discord.Client, clock: Clock, pacer: ChannelPacer, *, token_margin: float
    ):
        self._bot = bot
        self._clock = clock
        self._pacer = pacer
        self._margin = token_margin
        self._dead_tokens: set[str] = set()  # jobs whose interaction token Discord called gone
        self._frozen: set[str] = set()  # jobs whose reply takes no more edits (NO_MORE_EDITS)

    def takes_edits(self, job: Job) -> bool:
        return job.reply.message_id is not None and job.id not in self._frozen

    def token_valid(self, job: Job) -> bool:
        reply = job.reply
        return (
            bool(reply.interaction_token)
            and job.id not in self._dead_tokens
            and self._clock.now() < reply.token_expires_at - self._margin
        )

    def note_token(self, job: Job, error: discord.HTTPException) -> None:
        """Remember a token Discord called gone: the bot token serves this job from now on."""
        if code_of(error) in TOKEN_GONE:
            self._dead_tokens.add(job.id)

    def webhook(self, job: Job) -> discord.Webhook:
        assert job.reply.interaction_token is not None
        return discord.Webhook.partial(
            job.reply.application_id, job.reply.interaction_token, client=self._bot
        )

    async def edit(
        self, job: Job, *, token: bool = True, paced: bool = False, **fields: Any
    ) -> bool:
        """Edit the progress reply by token while it lives (unless ``token`` is False), else as
        the bot's own message. Best effort: returns whether the edit went through. ``paced``
        says the caller holds a slot of the channel's budget for it."""
        reply = job.reply
        if not self.takes_edits(job):
            return False
        assert reply.message_id is not None
        slot = None if paced else await self._pacer.slot(reply.channel_id)
        try:
            if token and self.token_valid(job):
                try:
                    await self.webhook(job).edit_message(reply.message_id, **fields)
                    return True
                except discord.HTTPException as error:
                    self.note_token(job, error)
                    if code_of(error) not in TOKEN_GONE:
                        raise
            channel = self._bot.get_partial_messageable(reply.channel_id)
            await channel.get_partial_message(reply.message_id).edit(**fields)
            return True
        except discord.HTTPException as error:
            # Deleted reply, missing permissions, an hour-old reply (30046), rate limits that
            # outlasted retries: the outcome is still told by message, so this is best effort.
            log.info("job %s: reply edit skipped (%s)", job.id, code_of(error))
            if code_of(error) in NO_MORE_EDITS:
                self._frozen.add(job.id)  # what is left to say is posted, not edited
            return False
        except TRANSPORT as error:  # dropped, lost or stalled: the next edit says it again
            log.info("job %s: reply edit unanswered (%s)", job.id, type(error).__name__)
            return False
        finally:
            if slot is not None:
                slot.end()

    async def settle_if_told(
        self, job: Job, notice: Notice, *, token: bool
    ) -> discord.Message | None:
        """The reply, if it already carries this outcome (an edit that landed just before a
        crash, or whose answer was lost), read through the interaction token or the bot's own.

        May edit: a resumed job may have redrawn its progress over it since; the video attached
        to the reply survives that, and the reply is then made to show the end again."""
        reply = job.reply
        if reply.message_id is None:
            return None
        message: discord.Message
        try:
            if token:
                message = await self.webhook(job).fetch_message(reply.message_id)
            else:
                channel = self._bot.get_partial_messageable(reply.channel_id)
                message = await channel.fetch_message(reply.message_id)
        except discord.HTTPException as error:  # deleted, or not readable: not shown there
            if token:
                self.note_token(job, error)
            return None
        except TRANSPORT:  # not known to show it; the caller looks elsewhere
            return None
        if shows_state(message, job.id, notice.state):
            return message
        landed = notice.shown_by([a.filename for a in message.attachments])
        if landed is not None:
            content = notice.text(landed)
            await self.edit(job, token=token, content=content, embed=notice.embed, view=notice.view)
            return message
        return None
