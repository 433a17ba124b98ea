"""Retry, Remix and Parameters on a delivered result, end to end over the fake Discord: by the
owner and by another member (the clicker is charged, the seed differs), a double click, clicks
on a job that is gone or belongs to another server, a Remix with wrong values or a replacement
image uploaded in the modal, a Retry over quota, and the Parameters card."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from cogs.ui import strings as s
from hh_bot.jobs.model import Job, JobState
from tests.bot_world import BotWorld, bot_world, footer_of
from tests.fakes.discord_interactions import FakeInteraction
from tests.fakes.discord_payloads import ALICE_ID, BOB_ID, StoredMessage
from tests.waiting import eventually

RESULT_BUTTONS = ("retry", "remix", "continue", "params", "delete")


async def answer(w: BotWorld, click: FakeInteraction) -> StoredMessage:
    """The private answer to a click or a modal submit, once it has its text."""
    message = await w.discord.wait_for_original(
        click.token, until=lambda m: bool(m.content or m.embeds) and not m.loading, timeout=10
    )
    assert message.ephemeral, "the answer must be private"
    return message


async def delivered(
    w: BotWorld, prompt: str = "character1 waves", **kw: Any
) -> tuple[Job, StoredMessage]:
    """A job run to its end by /video, and the public message carrying its result."""
    handle = await w.video(prompt, **kw)
    result = await w.outcome(handle)
    job = await w.job_of(handle)
    await eventually(lambda: _done(w, job.id), what=f"job {job.id} done")
    return job, result


async def _done(w: BotWorld, job_id: str) -> Job | None:
    job = await w.services.store.get_job(job_id)
    return job if job is not None and job.state is JobState.DONE else None


def job_id_of(message: StoredMessage) -> str:
    footer = footer_of(message)
    assert footer is not None and footer.startswith("job "), footer
    return footer.removeprefix("job ")


async def new_job(w: BotWorld, click: FakeInteraction) -> Job:
    """The job a click (or a modal submit) started: from its public reply, run to its end."""
    reply = await w.wait_reply(click)
    job_id = job_id_of(reply)
    return await eventually(lambda: _done(w, job_id), what=f"job {job_id} done")


def create_bodies(w: BotWorld) -> list[dict[str, Any]]:
    return [r.json for r in w.hh.creates()]


async def test_result_carries_the_iteration_buttons(tmp_path: Path) -> None:
    async with bot_world(tmp_path) as w:
        job, result = await delivered(w)
        assert result.custom_ids() == [f"hh:{a}:{job.id}" for a in RESULT_BUTTONS]
        assert job.origin == "command" and job.parent_id is None


async def test_retry_by_another_member_is_theirs_charged_to_them_with_a_new_seed(
    tmp_path: Path,
) -> None:
    async with bot_world(tmp_path) as w:
        job, result = await delivered(w, seed=1234)
        click = await w.discord.click_button(result.id, f"hh:retry:{job.id}", user=BOB_ID)
        said = await answer(w, click)
        retried = await new_job(w, click)
        assert said.content == s.STARTED_FOR_YOU.format(
            job_id=retried.id, owner_id=ALICE_ID, cost=s.money(retried.cost)
        )
        assert retried.user_id == BOB_ID and retried.parent_id == job.id
        assert retried.origin == "retry"
        assert retried.params.prompt == job.params.prompt
        assert retried.params.image_urls == job.params.image_urls
        assert (retried.params.resolution, retried.params.duration, retried.params.ratio) == (
            job.params.resolution, job.params.duration, job.params.ratio,
        )  # fmt: skip
        first, second = create_bodies(w)
        assert first["parameters"]["seed"] == 1234
        assert second["parameters"]["seed"] != 1234
        assert second["input"]["media"] == first["input"]["media"]
        ledger = await w.services.store.ledger(retried.id)
        assert {e.user_id for e in ledger} == {BOB_ID}, "the clicker pays"
        assert [e.kind for e in await w.services.store.ledger(job.id)] == ["reserve", "commit"]
