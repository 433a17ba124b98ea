"""Discord's side of the core's delivery interface.

While the interaction token lives (minus a safety margin) the job's reply is edited through it;
after that the bot token takes over: the progress reply is edited as the bot's own message and
the outcome is posted in the channel, mentioning the user and replying to the original; if the
channel refuses, the user gets a DM; if that is refused too, the reply itself shows the outcome
(the link, for a video).

Telling is idempotent, because a restart may repeat it: before posting, recent messages of the
channel (or DM) are searched for this job's marker, and the reply itself is checked for already
showing the outcome (a token edit that landed just before a crash).

Discord's answers on the way: 50027 (token gone) and 10008 (reply deleted) move on to posting,
40005/413 (too large) resends without the file, 50013 (channel refused) goes to the DM, 50007
(DM refused) to the reply edit; 429s are retried by discord.py itself.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import discord

from cogs.pacing import ChannelPacer
from cogs.ui import strings as s
from cogs.ui.buttons import job_view
from cogs.ui.embeds import footer_marks, job_embed, shows_state
from hh_bot.clock import Clock
from hh_bot.errors import HHError, JobCanceled
from hh_bot.jobs.delivery import DeliveryError, ProgressView, VideoResult
from hh_bot.jobs.model import Job, JobState

log = logging.getLogger(__name__)

TOKEN_MARGIN = 60.0  # stop using an interaction token this long before it expires
HISTORY_SCAN = 30
DM_UPLOAD_LIMIT = 10 * 1024 * 1024
TOKEN_GONE = {50027, 10015, 10062}  # the interaction token can't be used any more
TOO_LARGE = {40005}


def _code(error: discord.HTTPException) -> int:
    return error.code or (40005 if error.status == 413 else 0)


def video_filename(job_id: str) -> str:
    return f"hh-{job_id}.mp4"


def _mention(job: Job) -> discord.AllowedMentions:
    """Ping the job's owner and nobody else."""
    return discord.AllowedMentions(users=[discord.Object(job.user_id)], everyone=False, roles=False)


@dataclass(frozen=True)
class Notice:
    """One outcome to tell a user, whichever route it takes."""

    state: JobState  # the final state the embed shows (how a repeat recognises it)
    embed: discord.Embed
    view: discord.ui.View | None
    text: Callable[[bool], str]  # the message content, given whether the file is attached
    file: Callable[[int], discord.File | None]  # the file if it fits the limit, else None
    last_resort: str  # content for the reply itself when no message can be posted
    filename: str | None = None  # the video's file name, when the notice carries one


class DiscordDelivery:
    def __init__(self, bot: discord.Client, clock: Clock, *, token_margin: float = TOKEN_MARGIN):
        self._bot = bot
        self._clock = clock
        self._margin = token_margin
        self._pacer = ChannelPacer(clock)

    @property
    def pacer(self) -> ChannelPacer:
        """The channel budget every visible message of the bot goes through."""
        return self._pacer

    # -- the core's interface ----------------------------------------------------------------

    async def show_progress(self, job: Job, view: ProgressView) -> None:
        slot = self._pacer.try_slot(job.reply.channel_id)
        if slot is None:
            raise DeliveryError("the channel's message budget is spent; skipping this edit")
        async with slot:
            embed = job_embed(job, view)
            buttons = job_view(job.id, cancel=view.state is JobState.QUEUED)
            await self._edit_reply(job, paced=True, content=None, embed=embed, view=buttons)

    async def deliver(self, job: Job, result: VideoResult) -> int | None:
        expires = s.relative(result.url_expires_at)

        def text(file_attached: bool) -> str:
            if file_attached:
                return s.READY.format(user_id=job.user_id)
            if result.size is None:
                return s.READY_LINK_UNKNOWN_SIZE.format(
                    user_id=job.user_id, url=result.url, expires=expires
                )
            size = s.human_size(result.size)
            return s.READY_LINK.format(
                user_id=job.user_id, url=result.url, expires=expires, size=size
            )

        def file(limit: int) -> discord.File | None:
            if result.file is None or result.size is None or result.size > limit:
                return None
            return discord.File(result.file, filename=video_filename(job.id))

        notice = Notice(
            state=JobState.DONE,
            embed=job_embed(job.with_changes(job.updated_at, state=JobState.DONE, progress=100)),
            view=job_view(job.id, delete=True),
            text=text,
            file=file,
            last_resort=s.READY_LINK_UNKNOWN_SIZE.format(
                user_id=job.user_id, url=result.url, expires=expires
            ),
            filename=video_filename(job.id),
        )
        reply = job.reply
        if self._token_valid(job) and reply.message_id is not None:
            told = await self._told_in_reply(job, notice, token=True)
            if told is not None:  # a repeat after a restart: that edit had landed
                return told.id
            attached = file(reply.interaction_upload_limit)
            for attempt in (attached, None) if attached is not None else (None,):
                try:
                    async with await self._pacer.slot(reply.channel_id):
                        message = await self._webhook(job).edit_message(
                            reply.message_id,
                            content=text(attempt is not None),
                            embed=notice.embed,
                            attachments=[attempt] if attempt else [],
                            view=notice.view,
                            allowed_mentions=_mention(job),
                        )
                    return message.id
                except discord.HTTPException as error:
                    if attempt is not None and _code(error) in TOO_LARGE:
                        continue  # larger than Discord allows here after all: send the link
                    # Token gone, reply deleted, or anything else: post instead.
                    log.info("job %s: reply not editable (%s), posting", job.id, _code(error))
                    break
        return await self._tell(job, notice)

    async def fail(self, job: Job, error: HHError) -> None:
        reason = s.error_message(error)
        embed = job_embed(job, detail=reason)
        if isinstance(error, JobCanceled):
            await self._edit_reply(job, content=None, embed=embed, view=None)
            return
        if self._token_valid(job) and job.reply.message_id is not None:
            try:
                async with await self._pacer.slot(job.reply.channel_id):
                    await self._webhook(job).edit_message(
                        job.reply.message_id, content=None, embed=embed, view=None, attachments=[]
                    )
                return
            except discord.HTTPException as exc:
                log.info("job %s: reply not editable (%s), posting", job.id, _code(exc))
        text = s.FAILED_FOR.format(user_id=job.user_id, job_id=job.id, reason=reason)
        notice = Notice(
            state=job.state,
            embed=embed,
            view=None,
            text=lambda _: text,
            file=lambda _: None,
            last_resort=text,
        )
        await self._tell(job, notice)

    # -- telling by message ------------------------------------------------------------------

    async def _tell(self, job: Job, notice: Notice) -> int | None:
        """Post the notice (channel, else DM), else show it in the reply; return the message."""
        try:
            message = await self._post(job, notice)
        except DeliveryError:
            edited = await self._edit_reply(
                job,
                token=False,
                content=notice.last_resort,
                embed=notice.embed,
                view=notice.view,
                attachments=[],
            )
            if not edited:
                raise
            return job.reply.message_id
        if message.id != job.reply.message_id:
            # The old progress reply shows the end too (it can't be left at "Uploading").
            await self._edit_reply(job, content=None, embed=notice.embed, view=None)
        return message.id

    async def _post(self, job: Job, notice: Notice) -> discord.Message:
        """Post in the reply's channel, else DM the user; never twice for the same job."""
        channel = self._bot.get_partial_messageable(job.reply.channel_id)
        try:
            told = await self._find_post(job, channel) or await self._told_in_reply(
                job, notice, token=False
            )
            return told or await self._send(job, channel, notice, ref=True)
        except discord.HTTPException as error:
            # Usually 50013/50001 (no permission) or 10003 (channel gone); whatever it is, the
            # channel can't take it and the user's DMs are the next place.
            log.info("job %s: channel refused (%s), sending a DM", job.id, _code(error))
        try:
            dm = await self._bot.create_dm(discord.Object(job.user_id))  # type: ignore[arg-type]
            return await self._find_post(job, dm) or await self._send(job, dm, notice, ref=False)
        except discord.HTTPException as error:
            raise DeliveryError(f"DM refused: {_code(error)}") from None

    async def _find_post(self, job: Job, target: discord.abc.Messageable) -> discord.Message | None:
        """This job's notice among the recent messages of ``target``, if already posted."""
        me = self._bot.user
        async for message in target.history(limit=HISTORY_SCAN):
            if (
                me is not None
                and message.author.id == me.id
                and message.id != job.reply.message_id  # the reply carries the marker too
                and footer_marks(message, job.id)
            ):
                return message
        return None

    async def _told_in_reply(
        self, job: Job, notice: Notice, *, token: bool
    ) -> discord.Message | None:
        """The reply, if it already carries this outcome (an edit that landed just before a
        crash), read through the interaction token or the bot's own.

        A resumed job may have redrawn its progress over it since; the video attached to the
        reply survives that, and the reply is then made to show the end again."""
        reply = job.reply
        if reply.message_id is None:
            return None
        try:
            if token:
                message = await self._webhook(job).fetch_message(reply.message_id)
            else:
                channel = self._bot.get_partial_messageable(reply.channel_id)
                message = await channel.fetch_message(reply.message_id)
        except discord.HTTPException:  # deleted, or not readable: not shown there
            return None
        if shows_state(message, job.id, notice.state):
            return message
        if notice.filename and any(a.filename == notice.filename for a in message.attachments):
            fields = {"content": notice.text(True), "embed": notice.embed, "view": notice.view}
            await self._edit_reply(job, token=token, **fields)
            return message
        return None

    async def _send(
        self,
        job: Job,
        target: discord.PartialMessageable | discord.DMChannel,
        notice: Notice,
        *,
        ref: bool,
    ) -> discord.Message:
        reply = job.reply
        reference = None
        if ref and reply.message_id is not None:
            reference = discord.MessageReference(
                message_id=reply.message_id, channel_id=reply.channel_id, fail_if_not_exists=False
            )
        limit = reply.guild_upload_limit if ref else min(reply.guild_upload_limit, DM_UPLOAD_LIMIT)
        attached = notice.file(limit)
        try:
            return await self._send_one(target, notice, attached, reference, job)
        except discord.HTTPException as error:
            if attached is None or _code(error) not in TOO_LARGE:
                raise
        return await self._send_one(target, notice, None, reference, job)

    async def _send_one(
        self,
        target: discord.PartialMessageable | discord.DMChannel,
        notice: Notice,
        attached: discord.File | None,
        reference: discord.MessageReference | None,
        job: Job,
    ) -> discord.Message:
        async with await self._pacer.slot(target.id):
            return await target.send(
                notice.text(attached is not None),
                embed=notice.embed,
                file=attached or discord.utils.MISSING,
                view=notice.view or discord.utils.MISSING,
                allowed_mentions=_mention(job),
                reference=reference,
            )

    # -- the reply ---------------------------------------------------------------------------

    def _token_valid(self, job: Job) -> bool:
        reply = job.reply
        return (
            bool(reply.interaction_token)
            and self._clock.now() < reply.token_expires_at - self._margin
        )

    def _webhook(self, job: Job) -> discord.Webhook:
        assert job.reply.interaction_token is not None
        return discord.Webhook.partial(
            job.reply.application_id, job.reply.interaction_token, client=self._bot
        )

    async def _edit_reply(
        self, job: Job, *, token: bool = True, paced: bool = False, **fields: Any
    ) -> bool:
        """Edit the progress reply by token while it lives (unless ``token`` is False), else as
        the bot's own message. Best effort: returns whether the edit went through. ``paced``
        says the caller holds a slot of the channel's budget for it."""
        reply = job.reply
        if reply.message_id is None:
            return False
        slot = None if paced else await self._pacer.slot(reply.channel_id)
        try:
            if token and self._token_valid(job):
                try:
                    await self._webhook(job).edit_message(reply.message_id, **fields)
                    return True
                except discord.HTTPException as error:
                    if _code(error) not in TOKEN_GONE:
                        raise
            channel = self._bot.get_partial_messageable(reply.channel_id)
            await channel.get_partial_message(reply.message_id).edit(**fields)
            return True
        except discord.HTTPException as error:
            # Deleted reply, missing permissions, rate limits that outlasted retries: the
            # outcome is still told by message, so progress is best effort.
            log.info("job %s: reply edit skipped (%s)", job.id, _code(error))
            return False
        finally:
            if slot is not None:
                slot.end()
