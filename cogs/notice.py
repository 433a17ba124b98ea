"""One outcome to tell a user, and the Discord facts that telling it must respect: the answer
codes that route it elsewhere, the network failures discord.py lets through, and the upload and
whole-request caps a file must fit."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import aiohttp
import discord

from hh_bot.jobs.model import Job, JobState

REQUEST_CAP = 25 * 1024 * 1024  # Discord's whole-request cap (the upload limit when higher)
REQUEST_OVERHEAD = 64 * 1024  # the JSON payload and multipart framing beside the file
TOKEN_GONE = {50027, 10015, 10062}  # the interaction token can't be used any more
TOO_LARGE = {40005}
# The reply takes no more edits: deleted (10008), or too many edits of messages older than an
# hour (30046); what is left to say is posted instead.
NO_MORE_EDITS = {10008, 30046}
# What discord.py lets through when no HTTP answer came (TimeoutError is an OSError).
TRANSPORT: tuple[type[BaseException], ...] = (aiohttp.ClientError, OSError)
UNREACHED: tuple[type[BaseException], ...] = (discord.HTTPException, *TRANSPORT)


def code_of(error: discord.HTTPException) -> int:
    return error.code or (40005 if error.status == 413 else 0)


def upload_allowance(limit: int) -> int:
    """The largest file one request can carry under upload limit ``limit``: the file within
    the limit, and the whole request (file and overhead) within Discord's request cap."""
    return min(limit, max(REQUEST_CAP, limit) - REQUEST_OVERHEAD)


def video_filename(job_id: str) -> str:
    return f"hh-{job_id}.mp4"


def mention(job: Job) -> discord.AllowedMentions:
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
