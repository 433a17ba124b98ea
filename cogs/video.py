"""/video and the "Make video" message menu: parse, check what is free to check, defer, hand over.

Checks that need no I/O (prompt, parameters, image count, DMs) answer before the interaction is
deferred, privately. Everything else runs after a private defer, in ``VideoService.admit``.
"""

from __future__ import annotations

import contextlib
import logging
from typing import TYPE_CHECKING, Any

import discord
from discord import app_commands
from discord.ext import commands

from cogs.settings import capped_note
from cogs.ui import strings as s
from cogs.ui.buttons import job_view
from cogs.ui.embeds import job_embed
from cogs.ui.errors import report
from hh_bot.config import MAX_DURATION, MIN_DURATION, RATIOS, RESOLUTIONS, Defaults
from hh_bot.errors import BadInput, NotAllowed
from hh_bot.i18n import using_locale
from hh_bot.jobs.delivery import ProgressView
from hh_bot.jobs.intake import VideoRequest
from hh_bot.jobs.lineage import COMMAND, Lineage, with_frame
from hh_bot.jobs.model import Job, JobState, ReplyTarget
from hh_bot.jobs.request_checks import GenParams, clean_prompt, parse_int, resolve_params
from hh_bot.references.checker import AttachmentMeta, Reference, parse_url_list

if TYPE_CHECKING:
    from bot import HHBot

log = logging.getLogger(__name__)
Interaction = discord.Interaction["HHBot"]
TOKEN_LIFETIME = 15 * 60.0
MAX_IMAGES = 9
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".webp")


def attachment_meta(attachment: discord.Attachment) -> AttachmentMeta:
    return AttachmentMeta(
        filename=attachment.filename,
        url=attachment.url,
        content_type=attachment.content_type,
        size=attachment.size,
        width=attachment.width,
        height=attachment.height,
    )


def _thread_parent(interaction: Interaction) -> int | None:
    """The channel a thread belongs to (Discord sends it as the thread's ``parent_id``)."""
    channel = interaction.channel
    return channel.parent_id if isinstance(channel, discord.Thread) else None


def _check_count(count: int) -> None:
    if count == 0:
        raise BadInput("no_images", field="images")
    if count > MAX_IMAGES:
        raise BadInput("too_many_images", field="images")


class Draft:
    """A request checked as far as possible without I/O, waiting for the defer. ``kept``: an
    iteration's reused attachments (``hh_bot.jobs.lineage``); ``lineage``: how it was made."""

    def __init__(
        self,
        prompt: str,
        attachments: list[tuple[str, AttachmentMeta]],
        urls: list[str],
        options: dict[str, Any],
        *,
        kept: tuple[Reference, ...] = (),
        lineage: Lineage = COMMAND,
    ) -> None:
        self.prompt = clean_prompt(prompt)
        self.attachments = attachments
        self.urls = urls
        self.options = options
        self.kept = kept
        self.lineage = lineage
        _check_count(len(attachments) + len(urls) + len(kept))
        resolve_params(Defaults(), **options)  # range checks only; real defaults come later

    def params(self, defaults: Defaults) -> GenParams:
        return resolve_params(defaults, **self.options)


class VideoCog(commands.Cog):
    def __init__(self, bot: HHBot) -> None:
        self.bot = bot
        self.menu = app_commands.ContextMenu(name=s.MAKE_VIDEO_MENU, callback=self.make_video_menu)
        self.menu.guild_only = True
        bot.tree.add_command(self.menu)

    async def cog_unload(self) -> None:
        self.bot.tree.remove_command(self.menu.name, type=self.menu.type)

    @app_commands.command(name="video", description=s.VIDEO_DESC)
    @app_commands.guild_only()
    @app_commands.describe(
        prompt=s.PROMPT_DESC,
        image1=s.IMAGE_DESC, image2=s.IMAGE_DESC, image3=s.IMAGE_DESC,
        image4=s.IMAGE_DESC, image5=s.IMAGE_DESC, image6=s.IMAGE_DESC,
        image7=s.IMAGE_DESC, image8=s.IMAGE_DESC, image9=s.IMAGE_DESC,
        urls=s.URLS_DESC, resolution=s.RESOLUTION_DESC, duration=s.DURATION_DESC,
        ratio=s.RATIO_DESC, seed=s.SEED_DESC, watermark=s.WATERMARK_DESC,
        prompt_extend=s.PROMPT_EXTEND_DESC,
    )  # fmt: skip
    @app_commands.choices(
        resolution=[app_commands.Choice(name=r, value=r) for r in RESOLUTIONS],
        ratio=[app_commands.Choice(name=r, value=r) for r in RATIOS],
    )
    async def video(
        self,
        interaction: Interaction,
        prompt: app_commands.Range[str, 1, 5000],
        image1: discord.Attachment | None = None,
        image2: discord.Attachment | None = None,
        image3: discord.Attachment | None = None,
        image4: discord.Attachment | None = None,
        image5: discord.Attachment | None = None,
        image6: discord.Attachment | None = None,
        image7: discord.Attachment | None = None,
        image8: discord.Attachment | None = None,
        image9: discord.Attachment | None = None,
        urls: str | None = None,
        resolution: str | None = None,
        duration: app_commands.Range[int, MIN_DURATION, MAX_DURATION] | None = None,
        ratio: str | None = None,
        seed: app_commands.Range[int, 0, 2147483647] | None = None,
        watermark: bool | None = None,
        prompt_extend: bool | None = None,
    ) -> None:
        images = (image1, image2, image3, image4, image5, image6, image7, image8, image9)
        attachments = [
            (f"image{i}", attachment_meta(a))
            for i, a in enumerate(images, start=1)
            if a is not None
        ]
        options = {
            "resolution": resolution, "duration": duration, "ratio": ratio, "seed": seed,
            "watermark": watermark, "prompt_extend": prompt_extend,
        }  # fmt: skip
        if interaction.guild_id is None:
            raise NotAllowed("dm")
        draft = Draft(prompt, attachments, parse_url_list(urls), options)
        await self.start(interaction, draft)

    async def make_video_menu(self, interaction: Interaction, message: discord.Message) -> None:
        if interaction.guild_id is None:
            raise NotAllowed("dm")
        attachments = [
            (s.MESSAGE_IMAGE_LABEL.format(number=i, filename=a.filename), attachment_meta(a))
            for i, a in enumerate(message.attachments, start=1)
            if (a.content_type or "").startswith("image/")
            or a.filename.lower().endswith(IMAGE_SUFFIXES)
        ]
        links = [e.url for e in message.embeds if e.type == "image" and e.url]
        links += [
            e.image.url for e in message.embeds if e.type != "image" and e.image and e.image.url
        ]
        if not attachments and not links:
            raise BadInput("no_message_images", field="images")
        _check_count(len(attachments) + len(links))
        prefs = self.bot.services.preferences
        defaults = await prefs.defaults(interaction.guild_id, interaction.user.id)
        source = Lineage("menu", None, message.channel.id, message.id)
        modal = VideoModal(self, attachments, links, defaults, source)
        await interaction.response.send_modal(modal)

    async def start(
        self,
        interaction: Interaction,
        draft: Draft,
        *,
        frame: discord.File | None = None,
        owner_id: int | None = None,
    ) -> None:
        """Defer privately; check, reserve and store; then post the public progress reply.

        Until the job is admitted everything the user sees is private, so a rejected request
        never shows in the channel. The first followup after a defer replaces the private
        "thinking" message, hence the order: edit that message, then post the public one.

        /video, the menu and the result buttons (Retry, Remix, Continue: ``cogs.iterate``,
        which may have deferred already) all come here. ``frame``: Continue's last frame,
        uploaded with the public reply, whose URL becomes the first reference.
        ``owner_id``: whose result an iteration starts from (the private answer says who pays).
        """
        if not interaction.response.is_done():
            await interaction.response.defer(ephemeral=True, thinking=True)
        services = self.bot.services
        guild = interaction.guild
        user = interaction.user
        # Options over the member's /settings over the server's defaults; the rules cap them.
        chosen = await services.preferences.choose(
            interaction.guild_id,
            user.id,
            draft.prompt,
            draft.options,
            add_suffix=draft.lineage.origin in ("command", "menu"),
        )
        reply = ReplyTarget(
            channel_id=interaction.channel_id or 0,
            application_id=interaction.application_id,
            interaction_token=interaction.token,
            token_expires_at=services.clock.now() + TOKEN_LIFETIME,
            interaction_upload_limit=interaction.filesize_limit,
            guild_upload_limit=guild.filesize_limit if guild else 10 * 1024 * 1024,
            dm_first=chosen.dm_first,
            locale=interaction.locale.value,
            guild_locale=interaction.guild_locale.value if interaction.guild_locale else None,
        )
        request = VideoRequest(
            user_id=user.id,
            guild_id=interaction.guild_id,
            channel_id=reply.channel_id,
            parent_channel_id=_thread_parent(interaction),
            role_ids=tuple(r.id for r in getattr(user, "roles", ())),
            prompt=chosen.prompt,
            params=chosen.params,
            attachments=tuple(draft.attachments),
            urls=tuple(draft.urls),
            kept=draft.kept,
            lineage=draft.lineage,
        )
        job = await services.video.admit(request, reply)
        # From here on the job is stored and its cost reserved: it must run whatever Discord
        # answers or raises, and nothing may tell the user it failed. Without a progress reply,
        # the outcome is posted in the channel instead.
        message_id: int | None = None
        frame_url: str | None = None
        try:
            with contextlib.suppress(Exception):  # private and best effort
                started = _started(job, owner_id)
                capped = capped_note(chosen)
                await interaction.edit_original_response(
                    content=f"{started} {capped}" if capped else started
                )
            message_id, frame_url = await self._post_reply(interaction, job, frame)
        except Exception:  # never to the error funnel: it would say the job didn't start
            log.exception("job %s: posting its reply failed", job.id)
        finally:
            if frame is not None:  # the frame's URL in place, or the frame left out
                job = job.with_changes(
                    services.clock.now(), params=with_frame(job.params, frame_url)
                )
                await services.store.save(job)
            await services.video.launch(job, message_id)

    async def _post_reply(
        self, interaction: Interaction, job: Job, frame: discord.File | None = None
    ) -> tuple[int | None, str | None]:
        """Post the public progress reply: its id (None when it can't be known) and the URL of
        ``frame`` uploaded with it. A post whose answer was lost may have landed: the channel
        is read for it."""
        try:
            # public: in the server's language, like every later edit of it (DiscordDelivery)
            with using_locale(job.reply.guild_locale):
                async with await self.bot.delivery.pacer.slot(job.reply.channel_id):
                    message = await interaction.followup.send(
                        embed=job_embed(job, ProgressView(JobState.QUEUED, 0)),
                        view=job_view(job.id, cancel=True) or discord.utils.MISSING,
                        file=frame or discord.utils.MISSING,
                        wait=True,
                    )
            frame_url = message.attachments[0].url if frame and message.attachments else None
            return message.id, frame_url
        except discord.HTTPException as error:
            log.warning("job %s: progress reply not posted (code %s)", job.id, error.code)
            return None, None
        except Exception as error:  # the network, mostly: the reply may exist
            log.warning("job %s: progress reply unanswered (%s)", job.id, type(error).__name__)
            return await self.bot.delivery.find_reply(job), None


def _started(job: Job, owner_id: int | None) -> str:
    """The private answer once a job is admitted; an iteration on somebody else's result says
    whose it was and that the new job is charged to the clicker."""
    cost = s.money(job.cost)
    if owner_id is not None and owner_id != job.user_id:
        return s.STARTED_FOR_YOU.format(job_id=job.id, owner_id=owner_id, cost=cost)
    return s.STARTED_PRIVATE.format(job_id=job.id, cost=cost)


MENU = Lineage("menu")


class VideoModal(discord.ui.Modal, title=s.MODAL_TITLE):
    prompt: discord.ui.TextInput[VideoModal] = discord.ui.TextInput(
        label=s.MODAL_PROMPT, style=discord.TextStyle.paragraph, max_length=4000,
        placeholder=s.MODAL_PROMPT_HINT, custom_id="prompt",
    )  # fmt: skip
    resolution: discord.ui.TextInput[VideoModal] = discord.ui.TextInput(
        label=s.MODAL_RESOLUTION, max_length=5, custom_id="resolution"
    )
    duration: discord.ui.TextInput[VideoModal] = discord.ui.TextInput(
        label=s.MODAL_DURATION, max_length=2, custom_id="duration"
    )
    ratio: discord.ui.TextInput[VideoModal] = discord.ui.TextInput(
        label=s.MODAL_RATIO, max_length=4, custom_id="ratio"
    )
    seed: discord.ui.TextInput[VideoModal] = discord.ui.TextInput(
        label=s.MODAL_SEED, required=False, max_length=10, custom_id="seed"
    )

    def __init__(
        self,
        cog: VideoCog,
        attachments: list[tuple[str, AttachmentMeta]],
        links: list[str],
        defaults: Defaults,
        source: Lineage = MENU,
    ) -> None:
        super().__init__(timeout=600)  # random custom_id: discord.py keys open modals by it
        self.cog = cog
        self.attachments = attachments
        self.links = links
        self.source = source
        self.resolution.default = defaults.resolution
        self.duration.default = str(defaults.duration)
        self.ratio.default = defaults.ratio

    async def on_submit(self, interaction: Interaction) -> None:  # type: ignore[override]
        options = {
            "resolution": self.resolution.value.strip() or None,
            "duration": parse_int(self.duration.value, "duration"),
            "ratio": self.ratio.value.strip() or None,
            "seed": parse_int(self.seed.value, "seed"),
        }
        draft = Draft(self.prompt.value, self.attachments, self.links, options, lineage=self.source)
        await self.cog.start(interaction, draft)

    async def on_error(self, interaction: Interaction, error: Exception) -> None:  # type: ignore[override]
        await report(interaction, error)


async def setup(bot: HHBot) -> None:
    await bot.add_cog(VideoCog(bot))
