"""Retry, Remix and Parameters on a delivered result, end to end over the fake Discord: by the
owner and by another member (the clicker is charged, the seed differs), a double click, clicks
on a job that is gone or belongs to another server, a Remix with wrong values or a replacement
image uploaded in the modal, a Retry over quota, and the Parameters card."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from cogs.ui import strings as s
from hh_bot.jobs.model import Job, JobState
from tests.bot_world import (
    BotWorld,
    bot_world,
    default_limits,
    footer_of,
    modal_inputs,
    offline_checker,
)
from tests.fakes.discord_interactions import FakeInteraction
from tests.fakes.discord_payloads import ALICE_ID, BOB_ID, GUILD_ID, StoredMessage
from tests.fakes.images import image_host
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
    # Generous safety nets: Continue runs ffmpeg for the frame first, slow on a loaded machine.
    reply = await w.wait_reply(click, timeout=60.0)
    job_id = job_id_of(reply)
    return await eventually(lambda: _done(w, job_id), timeout=60.0, what=f"job {job_id} done")


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
        # /jobs shows where the new job came from.
        listing = await w.discord.invoke_slash("jobs", {}, user=BOB_ID)
        shown = await answer(w, listing)
        text = str(shown.embeds[0].get("description", ""))
        assert retried.id in text and s.ORIGINS["retry"].format(parent=job.id) in text


@pytest.mark.two_bots
async def test_a_double_click_makes_one_job(tmp_path: Path) -> None:
    async with bot_world(tmp_path) as w:
        job, result = await delivered(w)
        clicks = [
            await w.discord.click_button(result.id, f"hh:retry:{job.id}", user=BOB_ID)
            for _ in range(2)
        ]
        said = [(await answer(w, click)).content for click in clicks]
        # Either click may be the one refused: both run at once, each reading the job first
        # (in order on one SQLite connection, in any order from PostgreSQL's pool).
        [refused] = [n for n, text in enumerate(said) if text == s.DOUBLE_CLICK]
        await new_job(w, clicks[1 - refused])
        assert w.reply_of(clicks[refused]) is None
        assert w.creates() == 2, "the original and one retry"
        assert await w.rows() == (2, 4)


async def test_clicks_on_a_job_gone_or_of_another_server_are_refused(tmp_path: Path) -> None:
    async with bot_world(tmp_path) as w:
        (job, result), (gone, gone_result) = [await delivered(w, p) for p in ("one", "two")]

        await w.sql("UPDATE jobs SET guild_id = ? WHERE id = ?", GUILD_ID + 1, job.id)
        for table in ("ledger", "billing", "notices"):  # what refers to the job, then the job
            await w.sql(f"DELETE FROM {table} WHERE job_id = ?", gone.id)
        await w.sql("DELETE FROM jobs WHERE id = ?", gone.id)
        for action in ("retry", "remix", "continue", "params"):
            click = await w.discord.click_button(result.id, f"hh:{action}:{job.id}")
            assert (await answer(w, click)).content == s.NOT_THIS_SERVER
            click = await w.discord.click_button(gone_result.id, f"hh:{action}:{gone.id}")
            assert (await answer(w, click)).content == s.JOB_GONE
        assert w.creates() == 2 and not w.discord.modals


async def test_retry_over_quota_is_refused_privately_and_costs_nothing(tmp_path: Path) -> None:
    limits = replace(default_limits(), user_daily=700)  # one 720P 5 s video ($0.63) a day
    async with bot_world(tmp_path, limits=limits) as w:
        job, result = await delivered(w)
        click = await w.discord.click_button(result.id, f"hh:retry:{job.id}")
        said = await answer(w, click)
        assert said.content.startswith(s.QUOTA["user_day"].split("{")[0])
        assert w.reply_of(click) is None
        assert w.creates() == 1 and await w.rows() == (1, 2)
        # Another member has their own allowance: their Retry of the same result runs.
        click = await w.discord.click_button(result.id, f"hh:retry:{job.id}", user=BOB_ID)
        assert (await new_job(w, click)).user_id == BOB_ID


async def test_remix_with_wrong_values_gets_the_video_messages(tmp_path: Path) -> None:
    async with bot_world(tmp_path) as w:
        job, result = await delivered(w)
        click = await w.discord.click_button(result.id, f"hh:remix:{job.id}", user=BOB_ID)
        await w.discord.wait_for(lambda: bool(w.discord.modals), timeout=10)
        modal = w.discord.modals[-1]
        assert modal.data["title"] == s.REMIX_TITLE, "the modal says who pays"
        inputs = modal_inputs(modal.data)
        assert inputs["prompt"]["value"] == job.params.prompt
        assert inputs["duration"]["value"] == str(job.params.duration)
        assert inputs["resolution"]["value"] == job.params.resolution
        assert inputs["ratio"]["value"] == job.params.ratio
        wrong = {
            "duration": ("99", "bad_duration"),
            "resolution": ("480P", "bad_resolution"),
            "ratio": ("2:1", "bad_ratio"),
            "prompt": ("   ", "empty_prompt"),
        }
        for field, (value, reason) in wrong.items():
            submit = await w.discord.submit_modal(modal.custom_id, {field: value}, enforce=False)
            said = await answer(w, submit)
            assert said.content == s.BAD_INPUT[reason]
            assert submit.callback_type == 4, "answered at once, before any defer"
        assert w.creates() == 1 and await w.rows() == (1, 2)
        assert click.responded


async def test_remix_by_another_member_with_a_new_first_reference(tmp_path: Path) -> None:
    async with bot_world(tmp_path) as w:
        job, result = await delivered(w, images=[w.image("a.png"), w.image("b.png")])
        click = await w.discord.click_button(result.id, f"hh:remix:{job.id}", user=BOB_ID)
        await w.discord.wait_for(lambda: bool(w.discord.modals), timeout=10)
        modal = w.discord.modals[-1]
        new_image = w.image("new.png")
        values = {"prompt": "character1 dances", "duration": "4", "reference": [new_image]}
        submit = await w.discord.submit_modal(modal.custom_id, values, user=BOB_ID)
        remixed = await new_job(w, submit)
        assert click.responded
        assert remixed.user_id == BOB_ID and remixed.origin == "remix"
        assert remixed.parent_id == job.id
        assert remixed.params.prompt == "character1 dances" and remixed.params.duration == 4
        assert remixed.params.image_urls == (new_image["url"], job.params.image_urls[1])
        said = await answer(w, submit)
        assert said.content == s.STARTED_FOR_YOU.format(
            job_id=remixed.id, owner_id=ALICE_ID, cost=s.money(remixed.cost)
        )
        body = create_bodies(w)[-1]
        assert [m["url"] for m in body["input"]["media"]] == list(remixed.params.image_urls)
        assert {e.user_id for e in await w.services.store.ledger(remixed.id)} == {BOB_ID}


async def test_the_parameters_card_and_a_retry_that_checks_links_again(tmp_path: Path) -> None:
    async with (
        image_host() as host,
        bot_world(tmp_path, checker=offline_checker(host.client_ssl)) as w,
    ):
        link = host.url("/ok.png")
        job, result = await delivered(w, seed=42, urls=link)
        assert job.params.image_urls[-1] == link
        click = await w.discord.click_button(result.id, f"hh:params:{job.id}", user=BOB_ID)
        card = await answer(w, click)
        [embed] = card.embeds
        assert embed["title"] == s.CARD_TITLE.format(job_id=job.id)
        fields = {f["name"]: f["value"] for f in embed["fields"]}
        assert fields[s.CARD_PROMPT] == job.params.prompt
        for url in job.params.image_urls:
            assert f"({url})" in fields[s.CARD_REFERENCES]
        assert fields[s.CARD_SEED] == "42"
        assert fields[s.CARD_COST] == s.money(job.cost)
        assert job.task_id and job.task_id in fields[s.CARD_TASK]
        assert fields[s.CARD_LINEAGE] == s.ORIGINS["command"]
        assert "<t:" in fields[s.CARD_TIMINGS]
        # A retry's card names its parent.
        click = await w.discord.click_button(result.id, f"hh:retry:{job.id}")
        retried = await new_job(w, click)
        said = await answer(w, click)  # the owner's own Retry: the plain confirmation
        assert said.content == s.STARTED_PRIVATE.format(
            job_id=retried.id, cost=s.money(retried.cost)
        )
        assert retried.user_id == ALICE_ID
        retried_result = await w.outcome(click)
        click = await w.discord.click_button(retried_result.id, f"hh:params:{retried.id}")
        fields = {f["name"]: f["value"] for f in (await answer(w, click)).embeds[0]["fields"]}
        assert fields[s.CARD_LINEAGE] == s.ORIGINS["retry"].format(parent=job.id)
        assert retried.params.image_urls == job.params.image_urls
    probes = [seen.path for seen in host.requests if seen.method == "HEAD"]
    assert probes.count("/ok.png") == 2, "the Retry checked the link again"
