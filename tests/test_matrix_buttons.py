"""The bad-input matrix for the buttons on a result (Retry, Remix, Continue, Parameters).

Each row delivers one job by /video, then clicks (and, for Remix, submits its modal) the way a
client would. A refused click must end with one specific private answer to the clicker within
Discord's 3 seconds, and cost nothing: no create call, no job and no ledger entry beyond those
of the delivered result (the double-click row: beyond those of the first click's job).
``docs/reliability.md`` renders ``BUTTON_CASES`` beside the /video rows.
"""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from cogs.ui import strings as s
from hh_bot.jobs.model import Job, JobState
from tests.fakes.discord_interactions import FakeInteraction
from tests.fakes.discord_payloads import ALICE_ID, BOB_ID, GUILD_ID
from tests.fakes.discord_refresh import forget, signed
from tests.matrix import bot_messages, ping_problems
from tests.test_matrix_inputs import GOOD, InputWorld, input_world, stored
from tests.waiting import eventually

Click = Callable[[InputWorld, Job], Awaitable[FakeInteraction]]
Setup = Callable[[InputWorld, Job], Awaitable[None]]
ACK = 3.0  # Discord's deadline for the first answer to an interaction


@dataclass(frozen=True)
class ButtonCase:
    id: str
    given: str  # the click as docs/reliability.md shows it
    expect: str  # the private answer, word for word
    click: Click
    setup: Setup | None = None
    extra_jobs: int = 0  # jobs a row makes on purpose (the double click's first click)
    group: str = "button"
    defused: str = ""  # none: every button row is a refusal


def press(action: str, *, user: int = BOB_ID, times: int = 1) -> Click:
    async def click(m: InputWorld, job: Job) -> FakeInteraction:
        message_id = job.result_message_id
        assert message_id is not None
        handle = None
        for _ in range(times):
            handle = await m.w.discord.click_button(message_id, f"hh:{action}:{job.id}", user=user)
        assert handle is not None
        return handle

    return click


def remix(**values: str) -> Click:
    async def click(m: InputWorld, job: Job) -> FakeInteraction:
        fake = m.w.discord
        await press("remix")(m, job)
        await fake.wait_for(lambda: bool(fake.modals), timeout=10)
        return await fake.submit_modal(fake.modals[-1].custom_id, values, enforce=False)

    return click


def _sql(m: InputWorld, statement: str, *args: object) -> Awaitable[None]:
    def run() -> None:  # in a thread: the bot's own connection needs the loop meanwhile
        with contextlib.closing(sqlite3.connect(m.w.tmp / "hh.sqlite3", timeout=30)) as db:
            db.execute(statement, args)
            db.commit()

    return asyncio.to_thread(run)


async def delete_job(m: InputWorld, job: Job) -> None:
    await _sql(m, "DELETE FROM ledger WHERE job_id = ?", job.id)
    await _sql(m, "DELETE FROM jobs WHERE id = ?", job.id)


async def move_job(m: InputWorld, job: Job) -> None:
    await _sql(m, "UPDATE jobs SET guild_id = ? WHERE id = ?", GUILD_ID + 1, job.id)


async def ban_bob(m: InputWorld, job: Job) -> None:
    await m.w.services.policy.set_banned(GUILD_ID, BOB_ID, True)


async def only_another_channel(m: InputWorld, job: Job) -> None:
    other = m.w.discord.add_text_channel(GUILD_ID, "video-only")
    await m.w.services.policy.set_channel_allowed(GUILD_ID, other.id, True)


async def image_deleted(m: InputWorld, job: Job) -> None:
    forget(m.w.discord, job.params.image_urls[0])


EXPIRED = "https://cdn.discordapp.com/attachments/1000/424242/old.png"

# fmt: off
BUTTON_CASES: list[ButtonCase] = [
    ButtonCase("button-job-gone", "Retry on a job no longer stored", s.JOB_GONE,
               press("retry"), delete_job),
    ButtonCase("button-other-server", "Retry on a job of another server", s.NOT_THIS_SERVER,
               press("retry"), move_job),
    ButtonCase("button-params-other-server", "Parameters of a job of another server",
               s.NOT_THIS_SERVER, press("params"), move_job),
    ButtonCase("button-double-click", "Retry clicked twice in a row", s.DOUBLE_CLICK,
               press("retry", user=ALICE_ID, times=2), extra_jobs=1),
    ButtonCase("button-banned", "Retry by a member banned from the bot", s.NOT_ALLOWED["banned"],
               press("retry"), ban_bob),
    ButtonCase("button-channel", "Retry in a channel off the server's list",
               s.NOT_ALLOWED["channel"], press("retry"), only_another_channel),
    ButtonCase("button-expired-gone", "Retry whose expired image was deleted from Discord",
               s.BAD_INPUT["reference_expired"].format(image="image1"),
               press("retry"), image_deleted),
    ButtonCase("button-remix-duration", 'Remix modal duration "99"', s.BAD_INPUT["bad_duration"],
               remix(duration="99")),
    ButtonCase("button-remix-resolution", 'Remix modal resolution "8K"',
               s.BAD_INPUT["bad_resolution"], remix(resolution="8K")),
    ButtonCase("button-remix-ratio", 'Remix modal ratio "2:1"', s.BAD_INPUT["bad_ratio"],
               remix(ratio="2:1")),
    ButtonCase("button-remix-blank", 'Remix modal prompt "   "', s.BAD_INPUT["empty_prompt"],
               remix(prompt="   ")),
    ButtonCase("button-continue-no-archive", "Continue with no archived original",
               s.NO_ARCHIVE, press("continue")),
]
# fmt: on


async def delivered(m: InputWorld) -> Job:
    """Alice's /video, run to its end (its one image carries an expired signature)."""
    url = signed(EXPIRED, expires_at=time.time() - 3600)
    image = {"filename": "old.png", "data": b"\x89PNG" + bytes(16), "size": 200_000,
             "width": 800, "height": 600, "content_type": "image/png", "url": url}  # fmt: skip
    handle = await m.w.discord.invoke_slash("video", {"prompt": GOOD, "image1": image})
    await m.w.outcome(handle)

    async def done() -> Job | None:
        job = await m.w.job_of(handle)
        return job if job.state is JobState.DONE and job.result_message_id else None

    return await eventually(done, what="the result")


@pytest.mark.parametrize("case", BUTTON_CASES, ids=[c.id for c in BUTTON_CASES])
async def test_bad_click(tmp_path: Path, case: ButtonCase) -> None:
    async with input_world(tmp_path) as m:
        w = m.w
        job = await delivered(m)
        before = await stored(w)
        if case.setup is not None:
            await case.setup(m, job)
            before = await stored(w)
        handle = await case.click(m, job)
        answer = await w.private_answer(handle)
        assert answer == case.expect
        assert handle.callback_at is not None and handle.callback_at - handle.created_at < ACK
        if case.extra_jobs:
            await eventually(lambda: _settled(m, before[0] + case.extra_jobs), what="first job")
        assert w.creates() == 1 + case.extra_jobs, "a refused click reached the API"
        jobs, ledger = await stored(w)
        assert jobs == before[0] + case.extra_jobs, "a refused click was stored"
        assert ledger == before[1] + 2 * case.extra_jobs, "a refused click was charged"
        mine = [x for x in bot_messages(w.discord) if x.interaction_token == handle.token]
        assert mine and all(x.ephemeral for x in mine), "the refusal was not private"
        assert ping_problems(w.discord, ALICE_ID) == []


async def _settled(m: InputWorld, jobs: int) -> bool | None:
    finals = [j for j in await m.w.services.store.jobs_in_states(list(JobState)) if j.state.final]
    return True if len(finals) == jobs else None


def test_the_button_matrix_is_complete() -> None:
    assert len({c.id for c in BUTTON_CASES}) == len(BUTTON_CASES) >= 10
