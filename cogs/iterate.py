"""Retry, Remix and Continue on a delivered result: a new job made from an earlier one.

Whoever may use /video in the channel may click them on anybody's result: the new job is the
clicker's, charged to them, and goes through the same admission as /video (``VideoCog.start``:
policy, references, quota, cooldowns, the server's rules). The earlier job gives the prompt,
references and settings (Remix and Continue: as edited in the modal); expired attachment URLs
are renewed first (``cogs.iterate_refs``). A second click of the same member on the same
button within ``DOUBLE_CLICK`` seconds is refused, so an impatient double click makes one job.
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

import discord

from cogs.iterate_card import parameters_card
from cogs.iterate_refs import fresh_references
from cogs.ui import strings as s
from cogs.ui.errors import report
from cogs.ui.private import job_here, say
from cogs.video import Draft, VideoCog, attachment_meta
from hh_bot.jobs.lineage import (
    Lineage,
    StoredReferences,
    continued,
    frame_source,
    new_seed,
    replace_first,
    stored_references,
    without_frame,
)
from hh_bot.jobs.model import Job
from hh_bot.jobs.request_checks import parse_int
from hh_bot.media.errors import MediaError
from hh_bot.media.frames import last_frame
from hh_bot.references.checker import AttachmentMeta

if TYPE_CHECKING:
    from bot import HHBot

Interaction = discord.Interaction["HHBot"]
DOUBLE_CLICK = 5.0
"""Seconds (real time) during which a member's repeat click on the same button is refused."""
FRAME_NAME = "last-frame.jpg"


class Iterate:
    def __init__(self, bot: HHBot) -> None:
        self.bot = bot
        self._clicks: dict[tuple[int, str, str], float] = {}

    @property
    def video(self) -> VideoCog:
        # By name, not isinstance: load_extension executes cogs.video as a module of its own.
        cog = self.bot.get_cog("VideoCog")
        if cog is None:
            raise RuntimeError("the video cog is not loaded")
        return cast(VideoCog, cog)

    def _repeated(self, user_id: int, action: str, job_id: str) -> bool:
        """Whether this click repeats one made within ``DOUBLE_CLICK`` seconds (and record it).
        Real time: it is about a person's hand, not the bot's (scaled) clock."""
        now = time.monotonic()
        self._clicks = {k: at for k, at in self._clicks.items() if now - at < DOUBLE_CLICK}
        key = (user_id, action, job_id)
        if key in self._clicks:
            return True
        self._clicks[key] = now
        return False

    async def click(self, interaction: Interaction, action: str, job_id: str) -> None:
        """A result button: answered within Discord's 3 seconds (a modal, a card, or a defer)."""
        job = await job_here(interaction, job_id)
        if job is None:
            return
        if action == "params":
            await interaction.response.send_message(embed=parameters_card(job), ephemeral=True)
            return
        if self._repeated(interaction.user.id, action, job_id):
            await say(interaction, s.DOUBLE_CLICK)
            return
        if action == "retry":
            await self.retry(interaction, job)
        elif action == "continue" and not await self._archived(job):
            await say(interaction, s.NO_ARCHIVE)
        else:
            await interaction.response.send_modal(IterateModal(self, job, action))

    async def _archived(self, job: Job) -> bool:
        archive = self.bot.services.archive
        return archive is not None and await archive.has(job.id)

    def _lineage(self, job: Job, origin: str) -> Lineage:
        # The source message goes along: the new job's attachments are still that message's.
        return Lineage(origin, job.id, job.source_channel_id, job.source_message_id)

    async def retry(self, interaction: Interaction, job: Job) -> None:
        """The same prompt, references and settings; a new random seed."""
        await interaction.response.defer(ephemeral=True, thinking=True)
        p = job.params
        options = {
            "resolution": p.resolution, "duration": p.duration, "ratio": p.ratio,
            "watermark": p.watermark, "prompt_extend": p.prompt_extend,
            "seed": new_seed(p.seed),
        }  # fmt: skip
        frame_of = frame_source(job)  # a Continue's frame is taken again from the archive
        refs = await fresh_references(self.bot, job, stored_references(without_frame(job)))
        await self._start(interaction, job, "retry", p.prompt, [], refs, options, frame_of)

    async def submitted(
        self,
        interaction: Interaction,
        job: Job,
        action: str,
        options: dict[str, Any],
        prompt: str,
        upload: discord.Attachment | None,
    ) -> None:
        """A Remix or Continue modal was submitted (its values checked like /video's)."""
        # A Continue's old frame left with the reply it was posted on: it is never reused.
        refs = stored_references(without_frame(job))
        attachments = [("image1", attachment_meta(upload))] if upload is not None else []
        frame_of = job.id if action == "continue" else frame_source(job)
        if attachments:  # the upload takes the first place: the old frame's, or the first image
            if frame_source(job) is None:
                refs = replace_first(refs)
            frame_of = None
        # Checked before the defer: a wrong value is answered at once, like /video.
        planned = continued(refs) if frame_of is not None else refs
        Draft(prompt, attachments, list(planned.links), options, kept=planned.kept)
        await interaction.response.defer(ephemeral=True, thinking=True)
        refs = await fresh_references(self.bot, job, refs)
        await self._start(interaction, job, action, prompt, attachments, refs, options, frame_of)

    async def _start(
        self,
        interaction: Interaction,
        job: Job,
        origin: str,
        prompt: str,
        attachments: list[tuple[str, AttachmentMeta]],
        refs: StoredReferences,
        options: dict[str, Any],
        frame_of: str | None,
    ) -> None:
        """Hand the new job to /video's admission; with ``frame_of``, the last frame of that
        job's archived original goes first, uploaded with the new job's public reply."""
        lineage = self._lineage(job, origin)
        if frame_of is None:
            draft = Draft(
                prompt, attachments, list(refs.links), options, kept=refs.kept, lineage=lineage
            )
            await self.video.start(interaction, draft, owner_id=job.user_id)
            return
        refs = continued(refs)
        draft = Draft(prompt, [], list(refs.links), options, kept=refs.kept, lineage=lineage)
        with tempfile.TemporaryDirectory(prefix="hh-frame-") as work:
            path = await self._frame(frame_of, Path(work))
            if path is None:
                await say(interaction, s.FRAME_FAILED)
                return
            frame = discord.File(path, filename=FRAME_NAME)
            try:
                await self.video.start(interaction, draft, frame=frame, owner_id=job.user_id)
            finally:
                frame.close()

    async def _frame(self, job_id: str, work: Path) -> Path | None:
        """The last frame of the job's archived original, or None (none kept, ffmpeg failed)."""
        services = self.bot.services
        archived = await services.archive.get(job_id) if services.archive else None
        if archived is None or services.fitter is None:
            return None
        try:
            return await last_frame(archived.path, work / FRAME_NAME, services.fitter.ffmpeg)
        except (MediaError, OSError):
            return None


class IterateModal(discord.ui.Modal):
    """Remix or Continue: the earlier job's prompt and settings, prefilled and editable; Remix
    also takes an optional image that replaces the first reference (Discord's modal file
    upload). The title says the new job is charged to whoever submits it."""

    def __init__(self, iterate: Iterate, job: Job, action: str) -> None:
        title = s.REMIX_TITLE if action == "remix" else s.CONTINUE_TITLE
        super().__init__(title=title, timeout=600)  # random custom_id, like VideoModal
        self.iterate, self.job, self.action = iterate, job, action
        p = job.params
        self.prompt: discord.ui.TextInput[IterateModal] = discord.ui.TextInput(
            label=s.MODAL_PROMPT, style=discord.TextStyle.paragraph, max_length=4000,
            default=p.prompt[:4000], custom_id="prompt",
        )  # fmt: skip
        self.resolution: discord.ui.TextInput[IterateModal] = discord.ui.TextInput(
            label=s.MODAL_RESOLUTION, max_length=5, default=p.resolution, custom_id="resolution"
        )
        self.duration: discord.ui.TextInput[IterateModal] = discord.ui.TextInput(
            label=s.MODAL_DURATION, max_length=2, default=str(p.duration), custom_id="duration"
        )
        self.ratio: discord.ui.TextInput[IterateModal] = discord.ui.TextInput(
            label=s.MODAL_RATIO, max_length=4, default=p.ratio, custom_id="ratio"
        )
        for item in (self.prompt, self.resolution, self.duration, self.ratio):
            self.add_item(item)
        self.upload: discord.ui.FileUpload[IterateModal] | None = None
        if action == "remix":
            self.upload = discord.ui.FileUpload(custom_id="reference", required=False, max_values=1)
            label: discord.ui.Label[IterateModal] = discord.ui.Label(
                text=s.REPLACE_LABEL, description=s.REPLACE_DESC, component=self.upload
            )
            self.add_item(label)

    async def on_submit(self, interaction: Interaction) -> None:  # type: ignore[override]
        p = self.job.params
        options = {
            "resolution": self.resolution.value.strip() or None,
            "duration": parse_int(self.duration.value, "duration"),
            "ratio": self.ratio.value.strip() or None,
            "watermark": p.watermark,
            "prompt_extend": p.prompt_extend,
        }
        uploads = self.upload.values if self.upload is not None else []
        upload = uploads[0] if uploads else None
        await self.iterate.submitted(
            interaction, self.job, self.action, options, self.prompt.value, upload
        )

    async def on_error(self, interaction: Interaction, error: Exception) -> None:  # type: ignore[override]
        await report(interaction, error)
