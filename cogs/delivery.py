"""Discord's side of the core's delivery interface: showing progress, the video, or why not.

While the interaction token lives the job's reply shows the outcome (``cogs.reply``); after
that the outcome is posted in the channel, mentioning the user and replying to the original; if
the channel refuses, the user gets a DM; if that is refused too, the reply itself shows the
outcome (the link, for a video). A user's /settings may ask for the DM first.

Telling is idempotent, because a restart may repeat it: before posting, the channel (or DM) is
searched for this job's notice (``cogs.posted``), and the reply itself is checked for already
showing the outcome (a token edit that landed just before a crash).

Discord's answers on the way: 40005/413 (too large) resends with a file for the next smaller
limit (the guild's after the reply's, 10 MiB after a channel's), else without one; 50013
(channel refused) goes to the DM, 50007 (DM refused) to the reply edit; 429s are retried by
discord.py itself. Every route asks the notice for a file within its own limit
(``cogs.video_notice``): the original when it fits, else a copy the core fits to that limit
(which may take an ffmpeg run, so the token's life is checked again after it), else the link.

The network on the way: discord.py passes transport failures through untouched
(``aiohttp.ClientError``, ``OSError``, ``TimeoutError``: ``TRANSPORT``). The one rule here is
that a call the core makes either succeeds, raises ``DeliveryError``, or has left the outcome
shown: progress edits are best effort; a post or upload whose answer was lost may have landed,
so the reply and the channel are checked for it before anything else is sent.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable
from contextlib import aclosing
from typing import TypeVar

import discord

from cogs.notice import (
    TOO_LARGE,
    TRANSPORT,
    Notice,
    Upload,
    code_of,
    mention,
    no_file,
)
from cogs.pacing import ChannelPacer
from cogs.posted import PostedSearch, quietly
from cogs.reply import TOKEN_MARGIN, JobReply
from cogs.ui import strings as s
from cogs.ui.buttons import job_view
from cogs.ui.embeds import job_embed
from cogs.video_notice import uploads, video_notice
from hh_bot.clock import Clock
from hh_bot.errors import HHError, JobCanceled
from hh_bot.i18n import using_locale
from hh_bot.jobs.delivery import DeliveryError, ProgressView, ResultMessage, VideoResult
from hh_bot.jobs.model import Job, JobState

log = logging.getLogger(__name__)

DM_UPLOAD_LIMIT = 10 * 1024 * 1024
T = TypeVar("T")


class DiscordDelivery:
    def __init__(self, bot: discord.Client, clock: Clock, *, token_margin: float = TOKEN_MARGIN):
        self._bot = bot
        self._pacer = ChannelPacer(clock)
        self._reply = JobReply(bot, clock, self._pacer, token_margin=token_margin)
        self._posted = PostedSearch(bot)

    @property
    def pacer(self) -> ChannelPacer:
        """The channel budget every visible message of the bot goes through."""
        return self._pacer

    # -- the core's interface ----------------------------------------------------------------

    async def show_progress(self, job: Job, view: ProgressView) -> None:
        with using_locale(job.reply.guild_locale):  # a channel post: the server's language
            await self._show_progress(job, view)

    async def _show_progress(self, job: Job, view: ProgressView) -> None:
        if not self._reply.takes_edits(job):
            return  # no reply that takes edits: nothing to show progress on, no error either
        slot = self._pacer.try_slot(job.reply.channel_id)
        if slot is None:
            raise DeliveryError("the channel's message budget is spent; skipping this edit")
        async with slot:
            embed = job_embed(job, view)
            buttons = job_view(job.id, cancel=view.state is JobState.QUEUED)
            edited = await self._reply.edit(
                job, paced=True, content=None, embed=embed, view=buttons
            )
        if not edited:
            raise DeliveryError("the progress edit did not go through")

    async def deliver(self, job: Job, result: VideoResult) -> ResultMessage | None:
        with using_locale(job.reply.guild_locale):
            return await self._boundary(job, self._deliver(job, result))

    async def fail(self, job: Job, error: HHError) -> None:
        with using_locale(job.reply.guild_locale):
            await self._boundary(job, self._fail(job, error))

    async def _boundary(self, job: Job, call: Awaitable[T]) -> T:
        """The one rule for the core: a network failure that got this far becomes a
        ``DeliveryError`` (each step below has already checked what it could)."""
        try:
            return await call
        except TRANSPORT as error:
            log.warning("job %s: Discord unreachable (%s)", job.id, type(error).__name__)
            raise DeliveryError(f"Discord unreachable: {type(error).__name__}") from None

    async def _deliver(self, job: Job, result: VideoResult) -> ResultMessage | None:
        notice = video_notice(job, result)
        reply = job.reply
        if reply.dm_first:  # the owner's /settings: a DM is tried first, then the usual routes
            by_dm = await self._by_dm_first(job, notice)
            if by_dm is not None:
                return by_dm
        if self._reply.token_valid(job) and reply.message_id is not None:
            told = await self._reply.settle_if_told(job, notice, token=True)
            if told is not None:  # a repeat after a restart: that edit had landed
                return ResultMessage(told.id, reply.channel_id)
            # A 413 means the user's allowance (Nitro) is smaller than Discord said: the
            # guild's limit is the floor of it.
            limits = (reply.interaction_upload_limit, reply.guild_upload_limit)
            async with aclosing(uploads(notice, limits)) as attempts:
                async for attempt in attempts:
                    if not self._reply.token_valid(job):  # (that read: 50027? a long fit?)
                        break
                    placed = await self._upload_by_token(job, notice, attempt)
                    if isinstance(placed, ResultMessage):
                        return placed
                    if not placed or attempt is None:
                        break
        return await self._tell(job, notice)

    async def _by_dm_first(self, job: Job, notice: Notice) -> ResultMessage | None:
        """Send the result to the owner's DMs (idempotent: an earlier attempt's DM is found
        first); the progress reply then shows the end and says where the video went. None
        when the DM can't take it: the caller goes on with the product spec's routes."""
        dm: discord.DMChannel | None = None
        try:
            dm = await self._bot.create_dm(discord.Object(job.user_id))
            message = await self._posted.notice(job, dm)
            if message is None:
                # A repeat after a restart: an earlier attempt may have gone the usual way
                # (DMs were closed then); never tell twice.
                earlier = await self._told_in_channel(job, notice)
                if earlier is not None:
                    return earlier
                message = await self._send(job, dm, notice, ref=False)
        except discord.HTTPException as error:
            log.info("job %s: DM first refused (%s), the usual routes", job.id, code_of(error))
            return None
        except TRANSPORT as error:  # it may have landed with its answer lost: look once
            landed = None if dm is None else await quietly(self._posted.notice(job, dm))
            if landed is None:
                log.info("job %s: DM first unanswered (%s)", job.id, type(error).__name__)
                return None
            message = landed
        said = s.SENT_BY_DM.format(user_id=job.user_id)
        await self._reply.edit(
            job, content=said, embed=notice.embed, view=None, attachments=[],
            allowed_mentions=discord.AllowedMentions.none(),
        )  # fmt: skip
        return ResultMessage(message.id, message.channel.id)

    async def _told_in_channel(self, job: Job, notice: Notice) -> ResultMessage | None:
        """Where the outcome already is in the channel (the reply, or a post), if anywhere."""
        reply = job.reply
        told = await quietly(
            self._reply.settle_if_told(job, notice, token=self._reply.token_valid(job))
        )
        if told is not None:
            return ResultMessage(told.id, reply.channel_id)
        channel = self._bot.get_partial_messageable(reply.channel_id)
        posted = await quietly(self._posted.scan(job, channel))
        return None if posted is None else ResultMessage(posted.id, reply.channel_id)

    async def _upload_by_token(
        self, job: Job, notice: Notice, attempt: Upload | None
    ) -> ResultMessage | bool:
        """Show the result in the reply by token: where it is, True to try a smaller file
        (413), False to post instead."""
        reply = job.reply
        assert reply.message_id is not None
        try:
            async with await self._pacer.slot(reply.channel_id):
                message = await self._reply.webhook(job).edit_message(
                    reply.message_id,
                    content=notice.text(attempt.shown if attempt else "link"),
                    embed=notice.embed,
                    attachments=[attempt.file] if attempt else [],
                    view=notice.view,
                    allowed_mentions=mention(job),
                )
            return ResultMessage(message.id, reply.channel_id)
        except discord.HTTPException as error:
            self._reply.note_token(job, error)
            if attempt is not None and code_of(error) in TOO_LARGE:
                return True  # larger than Discord allows here after all: smaller, or the link
            # Token gone, reply deleted, or anything else: post instead.
            log.info("job %s: reply not editable (%s), posting", job.id, code_of(error))
            return False
        except TRANSPORT as error:
            # The upload may have landed with its answer lost: look before posting.
            log.info("job %s: upload unanswered (%s)", job.id, type(error).__name__)
            landed = await self._reply.settle_if_told(job, notice, token=True)
            if landed is not None:
                return ResultMessage(landed.id, reply.channel_id)
            return False

    async def _fail(self, job: Job, error: HHError) -> None:
        reason = s.error_message(error)
        embed = job_embed(job, detail=reason)
        if isinstance(error, JobCanceled):
            await self._reply.edit(job, content=None, embed=embed, view=None)
            return
        if self._reply.token_valid(job) and job.reply.message_id is not None:
            try:
                async with await self._pacer.slot(job.reply.channel_id):
                    await self._reply.webhook(job).edit_message(
                        job.reply.message_id, content=None, embed=embed, view=None, attachments=[]
                    )
                return
            except discord.HTTPException as exc:
                self._reply.note_token(job, exc)
                log.info("job %s: reply not editable (%s), posting", job.id, code_of(exc))
            except TRANSPORT as exc:  # the edit may have landed: _post looks at the reply
                log.info("job %s: reply edit unanswered (%s)", job.id, type(exc).__name__)
        await self._tell(job, failure_notice(job, error))

    async def find_reply(self, job: Job) -> int | None:
        """The id of the job's progress reply, if a post of it landed with its answer lost."""
        return await self._posted.reply(job)

    # -- telling by message ------------------------------------------------------------------

    async def _tell(self, job: Job, notice: Notice) -> ResultMessage | None:
        """Post the notice (channel, else DM), else show it in the reply; return where it is."""
        try:
            message = await self._post(job, notice)
        except DeliveryError:
            edited = await self._reply.edit(
                job,
                token=False,
                content=notice.last_resort,
                embed=notice.embed,
                view=notice.view,
                attachments=[],
            )
            if not edited:
                raise
            if job.reply.message_id is None:
                return None
            return ResultMessage(job.reply.message_id, job.reply.channel_id)
        if message.id != job.reply.message_id:
            # The old progress reply shows the end too (it can't be left at "Uploading").
            await self._reply.edit(job, content=None, embed=notice.embed, view=None)
        return ResultMessage(message.id, message.channel.id)

    async def _post(self, job: Job, notice: Notice) -> discord.Message:
        """Post in the reply's channel, else DM the user; never twice for the same job.

        A post whose answer was lost (or that stalled) may have landed: the channel is read
        again for it before the DM is tried."""
        channel = self._bot.get_partial_messageable(job.reply.channel_id)
        try:
            told = await self._posted.notice(job, channel) or await self._reply.settle_if_told(
                job, notice, token=False
            )
            return told or await self._send(job, channel, notice, ref=True)
        except discord.HTTPException as error:
            # Usually 50013/50001 (no permission) or 10003 (channel gone); whatever it is, the
            # channel can't take it and the user's DMs are the next place.
            log.info("job %s: channel refused (%s), sending a DM", job.id, code_of(error))
        except TRANSPORT as error:
            log.info("job %s: channel unanswered (%s)", job.id, type(error).__name__)
            landed = await quietly(self._posted.notice(job, channel))
            if landed is not None:
                return landed
        with using_locale(job.reply.locale):  # a DM speaks the user's language
            return await self._post_dm(job, notice.remake() if notice.remake else notice)

    async def _post_dm(self, job: Job, notice: Notice) -> discord.Message:
        dm: discord.DMChannel | None = None
        try:
            dm = await self._bot.create_dm(discord.Object(job.user_id))
            told = await self._posted.notice(job, dm)
            return told or await self._send(job, dm, notice, ref=False)
        except discord.HTTPException as error:
            raise DeliveryError(f"DM refused: {code_of(error)}") from None
        except TRANSPORT as error:
            landed = None if dm is None else await quietly(self._posted.notice(job, dm))
            if landed is not None:
                return landed
            raise DeliveryError(f"DM unanswered: {type(error).__name__}") from None

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
        # A 413 in a channel: the default 10 MiB is the floor of any guild's limit.
        dm_limit = min(reply.guild_upload_limit, DM_UPLOAD_LIMIT)
        limits = (reply.guild_upload_limit, dm_limit) if ref else (dm_limit,)
        async with aclosing(uploads(notice, limits)) as attempts:
            async for attempt in attempts:
                try:
                    return await self._send_one(target, notice, attempt, reference, job)
                except discord.HTTPException as error:
                    if attempt is None or code_of(error) not in TOO_LARGE:
                        raise
        raise AssertionError("unreachable: the last attempt (the link) returns or raises")

    async def _send_one(
        self,
        target: discord.PartialMessageable | discord.DMChannel,
        notice: Notice,
        attached: Upload | None,
        reference: discord.MessageReference | None,
        job: Job,
    ) -> discord.Message:
        async with await self._pacer.slot(target.id):
            return await target.send(
                notice.text(attached.shown if attached else "link"),
                embed=notice.embed,
                file=attached.file if attached else discord.utils.MISSING,
                view=notice.view or discord.utils.MISSING,
                allowed_mentions=mention(job),
                reference=reference,  # type: ignore[arg-type]  # None: no reply (accepted)
            )


def failure_notice(job: Job, error: HHError) -> Notice:
    """Why ``job`` ended without a video, to post when its reply can't show it."""
    reason = s.error_message(error)
    text = s.FAILED_FOR.format(user_id=job.user_id, job_id=job.id, reason=reason)
    return Notice(
        state=job.state,
        embed=job_embed(job, detail=reason),
        view=None,
        text=lambda _: text,
        file=no_file,
        last_resort=text,
        remake=lambda: failure_notice(job, error),
    )
