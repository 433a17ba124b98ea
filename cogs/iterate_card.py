"""The Parameters card of a job: everything needed to understand or reproduce it, privately.

Prompt, references (as links), settings, seed, cost, task id, timings, and how it was made (its
parent job). The delivered video's real duration, resolution and size, read from the file
when it was downloaded (``Job.video_facts``), show when the record has them.
"""

from __future__ import annotations

import discord

from cogs.ui import strings as s
from hh_bot.jobs.model import Job

FIELD_LIMIT = 1024


def origin_text(job: Job) -> str:
    """How the job was made, briefly: "/video", "Make video", "Retry of `abc`"…"""
    template = s.ORIGINS.get(job.origin, s.ORIGINS["command"])
    return template.format(parent=job.parent_id or "?")


def _when(ts: float | None) -> str:
    return s.CARD_NOT_YET if ts is None else s.relative(ts)


def _video_facts(job: Job) -> str | None:
    """The delivered video as measured from the file (``Job.video_facts``), if it was read."""
    facts = job.video_facts
    if facts is None:
        return None
    return s.CARD_VIDEO_LINE.format(
        duration=f"{facts.duration:.1f}",
        width=facts.width,
        height=facts.height,
        size=s.human_size(facts.size),
    )


def _switch(on: bool) -> str:
    return s.CARD_ON if on else s.CARD_OFF


def _fit(text: str) -> str:
    return text if len(text) <= FIELD_LIMIT else text[: FIELD_LIMIT - 1] + "…"


def parameters_card(job: Job) -> discord.Embed:
    p = job.params
    embed = discord.Embed(title=s.CARD_TITLE.format(job_id=job.id), colour=discord.Colour.blurple())
    embed.add_field(name=s.CARD_PROMPT, value=_fit(p.prompt), inline=False)
    links = [f"{n}. [{label}]({url})" for n, (label, url) in
             enumerate(zip(p.image_labels, p.image_urls, strict=False), start=1)]  # fmt: skip
    kept: list[str] = []
    for line in links:  # whole links only: half a link is broken markdown
        if len("\n".join([*kept, line])) > FIELD_LIMIT:
            break
        kept.append(line)
    embed.add_field(name=s.CARD_REFERENCES, value="\n".join(kept) or "—", inline=False)
    settings = s.CARD_SETTINGS_LINE.format(
        resolution=p.resolution, duration=p.duration, ratio=p.ratio,
        watermark=_switch(p.watermark),
        extend=s.CARD_DEFAULT if p.prompt_extend is None else _switch(p.prompt_extend),
    )  # fmt: skip
    embed.add_field(name=s.CARD_SETTINGS, value=settings, inline=False)
    seed = s.CARD_SEED_RANDOM if p.seed is None else str(p.seed)
    embed.add_field(name=s.CARD_SEED, value=seed, inline=True)
    embed.add_field(name=s.CARD_COST, value=s.money(job.cost), inline=True)
    embed.add_field(name=s.CARD_TASK, value=f"`{job.task_id}`" if job.task_id else "—", inline=True)
    timings = s.CARD_TIMINGS_LINE.format(
        created=_when(job.created_at), submitted=_when(job.submitted_at),
        finished=_when(job.finished_at),
    )  # fmt: skip
    embed.add_field(name=s.CARD_TIMINGS, value=timings, inline=False)
    embed.add_field(name=s.CARD_LINEAGE, value=origin_text(job), inline=True)
    facts = _video_facts(job)
    if facts is not None:
        embed.add_field(name=s.CARD_VIDEO, value=facts, inline=True)
    embed.set_footer(text=s.FOOTER.format(job_id=job.id))
    return embed
