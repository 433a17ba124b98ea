"""Embeds for the progress reply and the result."""

from __future__ import annotations

import discord

from cogs.ui import strings as s
from hh_bot.i18n import locales
from hh_bot.jobs.delivery import ProgressView
from hh_bot.jobs.model import Job, JobState

BAR_WIDTH = 12
COLOURS = {
    JobState.DONE: discord.Colour.green(),
    JobState.FAILED: discord.Colour.red(),
    JobState.EXPIRED: discord.Colour.orange(),
    JobState.CANCELED: discord.Colour.light_grey(),
}


def progress_bar(percent: int) -> str:
    filled = round(max(0, min(100, percent)) / 100 * BAR_WIDTH)
    return "▰" * filled + "▱" * (BAR_WIDTH - filled) + f" {percent}%"


def job_embed(
    job: Job, view: ProgressView | None = None, *, detail: str | None = None
) -> discord.Embed:
    state = view.state if view else job.state
    embed = discord.Embed(
        title=s.PROGRESS_TITLE.format(job_id=job.id),
        colour=COLOURS.get(state, discord.Colour.blurple()),
    )
    lines = [f"**{s.STATE_LABEL[state]}**"]
    if view and view.queue_position is not None and state is JobState.QUEUED:
        lines.append(s.QUEUE_POSITION.format(position=view.queue_position))
    if state in (JobState.RUNNING, JobState.DOWNLOADING, JobState.DELIVERING, JobState.DONE):
        lines.append(progress_bar(view.progress if view else job.progress))
    if job.submitted_at and not state.final:
        lines.append(s.STARTED.format(relative=s.relative(job.submitted_at)))
    if view and view.eta and state is JobState.RUNNING:
        lines.append(s.ETA.format(relative=s.relative(view.eta)))
    if detail:
        lines.append(detail)
    embed.description = "\n".join(lines)
    p = job.params
    prompt = p.prompt if len(p.prompt) <= 1000 else p.prompt[:999] + "…"
    embed.add_field(name=s.FIELD_PROMPT, value=prompt, inline=False)
    embed.add_field(
        name=s.FIELD_SETTINGS,
        value=s.SETTINGS_LINE.format(
            resolution=p.resolution,
            duration=p.duration,
            ratio=p.ratio,
            seed=s.SEED_RANDOM if p.seed is None else p.seed,
            watermark=s.on_off(p.watermark),
        ),
        inline=False,
    )
    refs = [f"[{label}]({url})" for label, url in zip(p.image_labels, p.image_urls, strict=True)]
    embed.add_field(name=s.FIELD_REFERENCES, value=_join_fitting(refs, 1024), inline=False)
    embed.add_field(name=s.FIELD_COST, value=s.money(job.cost), inline=True)
    if p.image_urls:
        embed.set_thumbnail(url=p.image_urls[0])
    embed.set_footer(text=s.FOOTER.format(job_id=job.id))
    return embed


def _join_fitting(links: list[str], limit: int) -> str:
    """As many whole links as fit in ``limit`` characters, then how many were left out (a link
    cut in half would show as broken markdown)."""
    text = " · ".join(links)
    if len(text) <= limit:
        return text or "—"
    room = limit - len(" · " + s.MORE_REFERENCES.format(count=len(links)))
    shown: list[str] = []
    for link in links:
        if len(" · ".join([*shown, link])) > room:
            break
        shown.append(link)
    return " · ".join([*shown, s.MORE_REFERENCES.format(count=len(links) - len(shown))])


def footer_marks(message: discord.Message, job_id: str) -> bool:
    """Whether ``message`` is this job's result or notice (used to avoid posting twice), in
    whichever language it was posted (a server may change its locale between posts)."""
    markers = {s.FOOTER.in_locale(locale).format(job_id=job_id) for locale in locales()}
    return any(e.footer and e.footer.text in markers for e in message.embeds)


def shows_state(message: discord.Message, job_id: str, state: JobState) -> bool:
    """Whether ``message`` is this job's embed showing ``state`` (e.g. a reply already done)."""
    labels = tuple(f"**{s.STATE_LABEL[state].in_locale(locale)}**" for locale in locales())
    return footer_marks(message, job_id) and any(
        (e.description or "").startswith(labels) for e in message.embeds
    )
