"""Discord's side of the core's delivery interface.

While the interaction token lives (minus a safety margin) the job's reply is edited through it;
after that the bot token takes over: the progress reply is edited as the bot's own message and
the outcome is posted in the channel, mentioning the user and replying to the original; if the
channel refuses, the user gets a DM. Posting is idempotent: before posting, recent messages are
searched for this job's marker, so a restart never notifies anybody twice.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

import discord

from cogs.ui import strings as s
from cogs.ui.buttons import job_view
from cogs.ui.embeds import footer_marks, job_embed
from hh_bot.clock import Clock
from hh_bot.delivery import DeliveryError, ProgressView, VideoResult
from hh_bot.errors import HHError, JobCanceled
from hh_bot.jobs import Job, JobState

log = logging.getLogger(__name__)

TOKEN_MARGIN = 60.0  # stop using an interaction token this long before it expires
HISTORY_SCAN = 30
# Codes meaning "this route can't take it, try the next one".
TOKEN_GONE = {50027, 10015, 10062}
CHANNEL_REFUSED = {50001, 50013, 10003, 50008}
TOO_LARGE = {40005}
MESSAGE_GONE = {10008}

Send = Callable[[discord.File | None], Awaitable[discord.Message]]


def _code(error: discord.HTTPException) -> int:
    return error.code or (40005 if error.status == 413 else 0)


class DiscordDelivery:
    def __init__(self, bot: discord.Client, clock: Clock, *, token_margin: float = TOKEN_MARGIN):
        self._bot = bot
        self._clock = clock
        self._margin = token_margin

    # -- the core's interface ----------------------------------------------------------------

    async def show_progress(self, job: Job, view: ProgressView) -> None:
        embed = job_embed(job, view)
        buttons = job_view(job.id, cancel=view.state is JobState.QUEUED)
        await self._edit_reply(job, content=None, embed=embed, view=buttons)

    async def deliver(self, job: Job, result: VideoResult) -> int | None:
        done = job_embed(job.with_changes(job.updated_at, state=JobState.DONE, progress=100))
        buttons = job_view(job.id, delete=True)
        mention = discord.AllowedMentions(
            users=[discord.Object(job.user_id)], everyone=False, roles=False
        )

        def content(file_fits: bool) -> str:
            if file_fits:
                return s.READY.format(user_id=job.user_id)
            expires = s.relative(result.url_expires_at)
            if result.size is None:
                return s.READY_LINK_UNKNOWN_SIZE.format(
                    user_id=job.user_id, url=result.url, expires=expires
                )
            return s.READY_LINK.format(
                user_id=job.user_id, url=result.url, expires=expires, size=s.human_size(result.size)
            )

        def file_for(limit: int) -> discord.File | None:
            if result.file is None or result.size is None or result.size > limit:
                return None
            return discord.File(result.file, filename=f"hh-{job.id}.mp4")

        reply = job.reply
        if self._token_valid(job) and reply.message_id is not None:
            file = file_for(reply.interaction_upload_limit)
            try:
                message = await self._webhook(job).edit_message(
                    reply.message_id,
                    content=content(file is not None),
                    embed=done,
                    attachments=[file] if file else [],
                    view=buttons,
                    allowed_mentions=mention,
                )
                return message.id
            except discord.HTTPException as error:
                if _code(error) in TOO_LARGE and file is not None:
                    message = await self._webhook(job).edit_message(
                        reply.message_id,
                        content=content(False),
                        embed=done,
                        attachments=[],
                        view=buttons,
                        allowed_mentions=mention,
                    )
                    return message.id
                if _code(error) not in TOKEN_GONE | MESSAGE_GONE:
                    raise
                log.info("job %s: reply not editable (%s), posting instead", job.id, _code(error))

        async def send(
            target: discord.abc.Messageable, file: discord.File | None, ref: bool
        ) -> discord.Message:
            reference = None
            if ref and reply.message_id is not None:
                reference = discord.MessageReference(
                    message_id=reply.message_id,
                    channel_id=reply.channel_id,
                    fail_if_not_exists=False,
                )
            return await target.send(
                content(file is not None),
                embed=done,
                file=file or discord.utils.MISSING,
                view=buttons or discord.utils.MISSING,
                allowed_mentions=mention,
                reference=reference,  # type: ignore[arg-type]
            )

        message = await self._post(job, send, lambda: file_for(reply.guild_upload_limit))
        await self._quietly_close_reply(job, done)
        return message.id

    async def fail(self, job: Job, error: HHError) -> None:
        text = s.error_message(error)
        embed = job_embed(job, detail=text)
        if isinstance(error, JobCanceled):
            await self._edit_reply(job, content=None, embed=embed, view=None)
            return
        if self._token_valid(job) and job.reply.message_id is not None:
            try:
                await self._webhook(job).edit_message(
                    job.reply.message_id, content=None, embed=embed, view=None, attachments=[]
                )
                return
            except discord.HTTPException as exc:
                if _code(exc) not in TOKEN_GONE | MESSAGE_GONE:
                    raise DeliveryError(f"edit failed: {_code(exc)}") from None
        mention = discord.AllowedMentions(
            users=[discord.Object(job.user_id)], everyone=False, roles=False
        )
        notice = s.FAILED_FOR.format(user_id=job.user_id, job_id=job.id, reason=text)

        async def send(
            target: discord.abc.Messageable, _: discord.File | None, ref: bool
        ) -> discord.Message:
            reference = None
            if ref and job.reply.message_id is not None:
                reference = discord.MessageReference(
                    message_id=job.reply.message_id,
                    channel_id=job.reply.channel_id,
                    fail_if_not_exists=False,
                )
            return await target.send(
                notice, embed=embed, allowed_mentions=mention, reference=reference
            )  # type: ignore[arg-type]

        await self._post(job, send, lambda: None)
        await self._quietly_close_reply(job, embed)

    # -- routes ------------------------------------------------------------------------------

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

    async def _edit_reply(self, job: Job, **fields: Any) -> None:
        """Edit the progress reply by token while it lives, else as the bot's own message."""
        reply = job.reply
        if reply.message_id is None:
            return
        try:
            if self._token_valid(job):
                try:
                    await self._webhook(job).edit_message(reply.message_id, **fields)
                    return
                except discord.HTTPException as error:
                    if _code(error) not in TOKEN_GONE:
                        raise
            channel = self._bot.get_partial_messageable(reply.channel_id)
            await channel.get_partial_message(reply.message_id).edit(**fields)
        except discord.HTTPException as error:
            # Deleted reply, missing permissions, rate limits that outlasted retries: the
            # outcome is still delivered by message later, so progress is best effort.
            log.info("job %s: progress edit skipped (%s)", job.id, _code(error))

    async def _quietly_close_reply(self, job: Job, embed: discord.Embed) -> None:
        """After posting the outcome separately, make the old progress reply show the end too."""
        if not self._token_valid(job):
            await self._edit_reply(job, content=None, embed=embed, view=None)

    async def _post(
        self,
        job: Job,
        send: Callable[
            [discord.abc.Messageable, discord.File | None, bool], Awaitable[discord.Message]
        ],
        make_file: Callable[[], discord.File | None],
    ) -> discord.Message:
        """Post in the reply's channel, else DM the user; never twice for the same job."""
        channel = self._bot.get_partial_messageable(job.reply.channel_id)
        try:
            return await self._send_once(job, channel, send, make_file, ref=True)
        except discord.HTTPException as error:
            if _code(error) not in CHANNEL_REFUSED | MESSAGE_GONE and error.status not in (
                403,
                404,
            ):
                raise DeliveryError(f"channel send failed: {_code(error)}") from None
            log.info("job %s: channel refused (%s), sending a DM", job.id, _code(error))
        try:
            dm = await self._bot.create_dm(discord.Object(job.user_id))  # type: ignore[arg-type]
            return await self._send_once(job, dm, send, make_file, ref=False)
        except discord.HTTPException as error:
            raise DeliveryError(f"DM refused: {_code(error)}") from None

    async def _send_once(
        self,
        job: Job,
        target: discord.abc.Messageable,
        send: Callable[
            [discord.abc.Messageable, discord.File | None, bool], Awaitable[discord.Message]
        ],
        make_file: Callable[[], discord.File | None],
        *,
        ref: bool,
    ) -> discord.Message:
        me = self._bot.user
        async for message in target.history(limit=HISTORY_SCAN):
            if (
                me is not None
                and message.author.id == me.id
                and message.id != job.reply.message_id
                and footer_marks(message, job.id)
            ):
                return message
        file = make_file()
        try:
            return await send(target, file, ref)
        except discord.HTTPException as error:
            if file is None or _code(error) not in TOO_LARGE:
                raise
            return await send(target, None, ref)
