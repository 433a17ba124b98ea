"""The Cancel and Delete buttons end to end: clicked in the fake Discord, on the bot's own replies,
by their owner, by somebody else and by an admin; and after the bot restarted (a new process on
the same database: the buttons are DynamicItems, re-registered from their custom ids)."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import discord
import pytest

from cogs.ui import strings as s
from hh_bot.jobs.model import Job, JobState
from tests.bot_world import BotWorld, bot_world, default_limits
from tests.crash_world import crash_world
from tests.fakes.discord_interactions import FakeInteraction
from tests.fakes.discord_payloads import ADMIN_ID, ALICE_ID, BOB_ID, GUILD_ID, StoredMessage
from tests.fakes.happyhorse import TaskScript
from tests.waiting import eventually

ONE_SLOT = replace(default_limits(), global_active_cap=1)


def job_id_in(message: StoredMessage) -> str:
    footer = (message.embeds[0].get("footer") or {}).get("text", "")
    assert footer.startswith("job "), footer
    return str(footer).removeprefix("job ")


async def reply(w: BotWorld, handle: FakeInteraction) -> StoredMessage:
    found = await w.discord.wait_for(lambda: w.reply_of(handle), timeout=10)
    assert found is not None
    return found


async def stored(w: BotWorld, job_id: str, *states: JobState) -> Job:
    async def probe() -> Job | None:
        job = await w.services.store.get_job(job_id)
        return job if job is not None and job.state in states else None

    return await eventually(probe, what=f"job {job_id} in {states}")


async def answer(w: BotWorld, click: FakeInteraction) -> StoredMessage:
    """The private answer to a click, once it has its text."""
    message = await w.discord.wait_for_original(
        click.token, until=lambda m: bool(m.content) and not m.loading, timeout=10
    )
    assert message.ephemeral, "a button's answer must be private"
    return message


def description(message: StoredMessage) -> str:
    return str(message.embeds[0].get("description", "")) if message.embeds else ""


# A job that holds the only slot until the test finishes it: a fixed duration (200 virtual
# seconds was 1 s of real time) can run out on a busy machine before the clicks come in.
HOLD = 864000.0


def finish_now(w: BotWorld, prompt: str) -> None:
    """The API finishes the task for ``prompt`` now: its next poll says completed."""
    task = next(t for t in w.hh.tasks.values() if t.body["input"]["prompt"] == prompt)
    task.script = replace(task.script, duration=w.clock.now() - task.created_at)


@pytest.mark.two_bots
async def test_cancel_while_queued_releases_and_never_submits(tmp_path: Path) -> None:
    async with bot_world(tmp_path, limits=ONE_SLOT, poll_deadline=HOLD) as w:
        w.hh.scripts.append(TaskScript(duration=HOLD))  # the first job holds the only slot
        first = await reply(w, await w.video("first job"))
        await stored(w, job_id_in(first), JobState.RUNNING)
        second = await reply(w, await w.video("second job"))
        job_id = job_id_in(second)
        assert f"hh:cancel:{job_id}" in second.custom_ids()

        refused = await answer(
            w, await w.discord.click_button(second.id, f"hh:cancel:{job_id}", user=BOB_ID)
        )
        assert refused.content == s.NOT_YOURS
        assert (await w.services.store.get_job(job_id)).state is JobState.QUEUED

        done = await answer(w, await w.discord.click_button(second.id, f"hh:cancel:{job_id}"))
        assert done.content == s.CANCELED_OK.format(job_id=job_id)
        canceled = await stored(w, job_id, JobState.CANCELED)
        assert [e.kind for e in await w.services.store.ledger(job_id)] == ["reserve", "release"]
        await w.discord.wait_for(lambda: s.STATE_LABEL[JobState.CANCELED] in description(second))
        assert not second.custom_ids(), "a canceled job keeps no buttons"
        assert s.CANCELED in description(second)

        finish_now(w, "first job")
        await stored(w, job_id_in(first), JobState.DONE)
        prompts = [r.json["input"]["prompt"] for r in w.hh.creates()]
        assert prompts == ["first job"], "a canceled job was submitted"
        assert canceled.task_id is None


async def test_a_submitting_job_shows_it_and_offers_no_cancel(tmp_path: Path) -> None:
    async with bot_world(tmp_path) as w:
        w.hh.create_faults.append("slow")  # the create is on its way: the job is submitting
        w.hh.slow_delay = 60.0
        message = await reply(w, await w.video())
        job_id = job_id_in(message)
        await stored(w, job_id, JobState.SUBMITTING)
        # The reply says so while the create is out, and the Cancel button is gone: the API
        # cannot stop a task once the create may have reached it.
        await w.discord.wait_for(lambda: s.STATE_LABEL[JobState.SUBMITTING] in description(message))
        assert not message.custom_ids()
        assert (await stored(w, job_id, JobState.DONE)).state is JobState.DONE
        assert w.creates() == 1


async def test_admin_may_cancel_and_a_double_click_cancels_once(tmp_path: Path) -> None:
    async with bot_world(tmp_path, limits=ONE_SLOT, poll_deadline=HOLD) as w:
        w.hh.scripts.append(TaskScript(duration=HOLD))
        first = await reply(w, await w.video("first job"))
        await stored(w, job_id_in(first), JobState.RUNNING)
        second = await reply(w, await w.video("alice's queued job"))
        job_id = job_id_in(second)
        # The owner and an admin click at the same moment: one cancels, the other is told.
        clicks = [
            await w.discord.click_button(second.id, f"hh:cancel:{job_id}", user=user)
            for user in (ADMIN_ID, ALICE_ID)
        ]
        answers = {(await answer(w, click)).content for click in clicks}
        assert answers == {
            s.CANCELED_OK.format(job_id=job_id),
            s.ALREADY_CANCELED.format(job_id=job_id),
        }
        await stored(w, job_id, JobState.CANCELED)
        assert [e.kind for e in await w.services.store.ledger(job_id)] == ["reserve", "release"]


async def test_delete_removes_the_result_owner_or_admin_only(tmp_path: Path) -> None:
    async with bot_world(tmp_path) as w:
        handles = [await w.video("alice one"), await w.video("alice two")]
        results = [await w.outcome(h) for h in handles]
        for result in results:
            assert result.attachments, "the result carries the video"
        ids = [job_id_in(r) for r in results]

        click = await w.discord.click_button(results[0].id, f"hh:delete:{ids[0]}", user=BOB_ID)
        assert (await answer(w, click)).content == s.NOT_YOURS
        assert not results[0].deleted

        click = await w.discord.click_button(results[0].id, f"hh:delete:{ids[0]}")
        assert (await answer(w, click)).content == s.DELETED_OK
        await w.discord.wait_for(lambda: results[0].deleted)

        click = await w.discord.click_button(results[1].id, f"hh:delete:{ids[1]}", user=ADMIN_ID)
        assert (await answer(w, click)).content == s.DELETED_OK
        await w.discord.wait_for(lambda: results[1].deleted)
        for job_id in ids:  # deleting the message does not touch the job or its charge
            # (stored done once delivered: the file is on the wire a moment before that)
            await stored(w, job_id, JobState.DONE)
            ledger = await w.services.store.ledger(job_id)
            assert [e.kind for e in ledger] == ["reserve", "commit"]


@pytest.mark.slow
@pytest.mark.two_bots
async def test_buttons_work_after_a_restart(tmp_path: Path) -> None:
    # The long job holds the only slot until the test ends its task, however long the restart
    # takes (it used to run 300 virtual seconds, 1.5 s of real time: on a busy machine it could
    # end before the click, the queued job then started, and Cancel found it being submitted).
    async with crash_world(tmp_path, GLOBAL_ACTIVE_TASKS="1", POLL_DEADLINE="864000") as w:
        w.hh.scripts.extend([TaskScript(), TaskScript(duration=864000)])
        await w.start()
        await w.video("finished job")
        done = await w.wait_final("finished job")
        await w.video("long job")
        long = await w.wait_job("long job", lambda j: j.state == "running")
        await w.video("queued job")
        queued = await w.wait_job("queued job", lambda j: j.message_id is not None)
        await w.stop()
        await w.start()

        result = w.discord.messages[done.result_message_id]
        click = await w.discord.click_button(result.id, f"hh:delete:{done.id}", user=BOB_ID)
        refusal = await w.discord.wait_for_original(click.token, until=lambda m: bool(m.content))
        assert refusal.content == s.NOT_YOURS and not result.deleted
        click = await w.discord.click_button(result.id, f"hh:delete:{done.id}", user=ALICE_ID)
        await w.discord.wait_for(lambda: result.deleted)

        progress = w.discord.messages[queued.message_id]
        click = await w.discord.click_button(progress.id, f"hh:cancel:{queued.id}")
        ok = await w.discord.wait_for_original(click.token, until=lambda m: bool(m.content))
        assert ok.content == s.CANCELED_OK.format(job_id=queued.id)
        job = await w.wait_final("queued job")
        assert job.state == "canceled" and w.ledger(job.id) == ["reserve", "release"]
        assert long.task_id is not None
        w.hh.expire(long.task_id)  # the slot frees now: the canceled job must not take it
        await w.wait_final("long job")
        assert w.creates_for("queued job") == 0


async def test_a_job_of_another_server_is_refused_privately(tmp_path: Path) -> None:
    async with bot_world(tmp_path, limits=ONE_SLOT) as w:
        w.hh.scripts.append(TaskScript(duration=200))
        first = await reply(w, await w.video("first job"))
        await stored(w, job_id_in(first), JobState.RUNNING)
        second = await reply(w, await w.video("queued job"))
        job_id = job_id_in(second)

        # The same custom id reaching the bot from another server (a copied message, a forged
        # click): the stored job says where it belongs.
        await w.sql("UPDATE jobs SET guild_id = ? WHERE id = ?", GUILD_ID + 1, job_id)
        click = await w.discord.click_button(second.id, f"hh:cancel:{job_id}")
        assert (await answer(w, click)).content == s.NOT_THIS_SERVER
        assert (await w.services.store.get_job(job_id)).state is JobState.QUEUED


async def test_an_error_after_the_defer_replaces_the_thinking_message(tmp_path: Path) -> None:
    async with bot_world(tmp_path, allow_errors=(discord.HTTPException,)) as w:
        result = await w.outcome(await w.video())
        job_id = job_id_in(result)
        # The answer after the defer is refused: the "thinking…" must not stay on screen.
        w.discord.fail_next("PATCH", r"^/webhooks/\d+/[^/]+/messages/@original$", 400, 50035)
        click = await w.discord.click_button(result.id, f"hh:delete:{job_id}")
        said = await answer(w, click)
        assert said.content == s.BUTTON_FAILED
        assert w.discord.interaction_responses(click.token)[0].json["type"] == 5  # deferred


async def test_delete_defers_first(tmp_path: Path) -> None:
    async with bot_world(tmp_path) as w:
        handle = await w.video()
        result = await w.outcome(handle)
        job_id = job_id_in(result)
        w.discord.rate_limit_next("DELETE", r"/messages/\d+$", retry_after=1.0)
        click = await w.discord.click_button(result.id, f"hh:delete:{job_id}")
        assert (await answer(w, click)).content == s.DELETED_OK
        assert w.discord.interaction_responses(click.token)[0].json["type"] == 5
        assert result.deleted
