"""The runner end to end against the fake HappyHorse server: submit → poll → download → deliver.

The tests that lean on the store (cancel, the fair queue and global cap, restarts) run on both
backends (``store_url``, see ``conftest.py``); the rest on SQLite."""

from __future__ import annotations

import asyncio
import itertools
from pathlib import Path

import pytest

from hh_bot.config import MIN_POLL_GAP
from hh_bot.errors import (
    AuthError,
    ModerationBlocked,
    OutOfBalance,
    RejectedInput,
    TaskExpired,
    TaskFailed,
    UnknownOutcome,
)
from hh_bot.jobs.delivery import link_expiry
from hh_bot.jobs.model import JobState
from hh_bot.jobs.runner import RunnerConfig
from tests.core_world import API_KEY, core_world
from tests.fakes.happyhorse import TaskScript
from tests.waiting import eventually


async def finished(world, job_id: str, timeout: float = 10.0):
    async def final():
        job = await world.store.get_job(job_id)
        return job if job is not None and job.state.final else None

    return await eventually(final, timeout=timeout, what=f"job {job_id} to end")


async def stored_state(world, job_id: str, state: JobState):
    async def probe():
        job = await world.store.get_job(job_id)
        return job if job is not None and job.state is state else None

    return await eventually(probe, what=f"job {job_id} to be {state}")


async def test_success_delivers_exact_bytes_and_commits(tmp_path: Path) -> None:
    async with core_world(tmp_path) as w:
        job = await w.submit()
        done = await finished(w, job.id)
        assert done.state is JobState.DONE
        assert done.task_id is not None and done.result_message_id == 1001
        assert [d.data for d in w.delivery.delivered] == [w.fake.video_bytes]
        assert len(w.fake.creates()) == 1
        body = w.fake.creates()[0].json
        assert (
            body["parameters"]["resolution"] == "720P" and body["parameters"]["watermark"] is False
        )
        assert [e.kind for e in await w.store.ledger(job.id)] == ["reserve", "commit"]
        # The download went without the key; every API request carried it.
        assert all(r.header("Authorization") is None for r in w.fake.downloads())
        assert all(r.header("Authorization") == f"Bearer {API_KEY}" for r in w.fake.polls())
        states = [v.state for jid, v in w.delivery.progress if jid == job.id]
        # Submitting, then running are shown; delivering is not (the delivery itself edits the
        # reply at once).
        assert states[0] is JobState.SUBMITTING and set(states[1:]) == {JobState.RUNNING}
        assert not list((tmp_path / "videos").iterdir()), "temporary video left behind"


# What the product promises about poll timing (the API guide: first poll after ~15 s, never
# closer than 3 s). The planner spreads every delay by up to 10 % either way, except at the
# 3-second floor, which it spreads upwards only. Delays only ever push a poll later, so these
# lower bounds hold however busy the machine; FLOAT allows for rounding, not for speed.
FIRST_POLL = 15.0
JITTER = 0.1
FLOAT = 1e-6


async def test_polls_are_at_least_three_virtual_seconds_apart(tmp_path: Path) -> None:
    async with core_world(tmp_path) as w:
        job = await w.submit()
        await finished(w, job.id)
        times = [r.at for r in w.fake.polls()]
        assert len(times) >= 2
        assert min(b - a for a, b in itertools.pairwise(times)) >= MIN_POLL_GAP - FLOAT
        # The first poll waits for the first delay less its jitter, counted from the create.
        assert times[0] - w.fake.creates()[0].at >= FIRST_POLL * (1 - JITTER) - FLOAT


@pytest.mark.parametrize("shape", ["apiyi", "dashscope", "gateway", "openai"])
async def test_every_poll_shape_delivers(tmp_path: Path, shape: str) -> None:
    async with core_world(tmp_path, poll_shape=shape) as w:
        job = await w.submit()
        assert (await finished(w, job.id)).state is JobState.DONE
        assert w.delivery.delivered[0].data == w.fake.video_bytes


async def test_gzip_label_quirk_is_ridden_out(tmp_path: Path) -> None:
    async with core_world(tmp_path, gzip_label_quirk=True) as w:
        job = await w.submit()
        assert (await finished(w, job.id)).state is JobState.DONE


CREATE_FAULTS = [
    ("balance", OutOfBalance, 1),
    ("5xx", UnknownOutcome, 1),  # a 5xx may follow a task the gateway made: never repeated
    ("500_after", UnknownOutcome, 1),
    ("lost", UnknownOutcome, 1),
]


@pytest.mark.parametrize(("fault", "error", "creates"), CREATE_FAULTS)
async def test_create_faults_end_visibly_and_release(tmp_path, fault, error, creates) -> None:
    async with core_world(tmp_path) as w:
        w.fake.create_faults.extend([fault] * 4)
        job = await w.submit()
        ended = await finished(w, job.id)
        assert ended.state is JobState.FAILED
        assert ended.error_kind == error.__name__
        assert len(w.fake.creates()) == creates
        [(_failed_job, raised)] = w.delivery.failures
        assert isinstance(raised, error)
        assert [e.kind for e in await w.store.ledger(job.id)] == ["reserve", "release"]
        assert not w.fake.polls()


async def test_lost_create_response_is_never_resubmitted(tmp_path: Path) -> None:
    async with core_world(tmp_path) as w:
        w.fake.create_faults.append("lost")
        job = await w.submit()
        await finished(w, job.id)
        assert len(w.fake.creates()) == 1
        assert len(w.fake.tasks) == 1, "the fake made a task whose id the bot never learned"


async def test_throttled_create_is_retried_and_delivered(tmp_path: Path) -> None:
    async with core_world(tmp_path) as w:
        w.fake.create_faults.extend(["throttle", "throttle"])
        job = await w.submit()
        assert (await finished(w, job.id)).state is JobState.DONE
        assert len(w.fake.creates()) == 3 and len(w.fake.tasks) == 1


@pytest.mark.parametrize(
    ("change", "error"),
    [
        ({"prompt": "x" * 5001}, RejectedInput),
        ({"duration": 99}, RejectedInput),
    ],
)
async def test_rejected_input_is_not_retried(tmp_path, change, error) -> None:
    async with core_world(tmp_path) as w:
        job = await w.submit(**change)
        ended = await finished(w, job.id)
        assert ended.error_kind == error.__name__ and len(w.fake.creates()) == 1


async def test_bad_key_is_an_auth_error(tmp_path: Path) -> None:
    async with core_world(tmp_path) as w:
        w.fake.api_key = "another-key"
        job = await w.submit()
        ended = await finished(w, job.id)
        assert ended.error_kind == AuthError.__name__
        assert API_KEY not in str(w.delivery.failures[0][1])


@pytest.mark.parametrize(
    "code", ["InvalidImageUrl", "InvalidParameter", "DataInspectionFailed", "InternalError"]
)
async def test_task_failures_carry_their_code(tmp_path: Path, code: str) -> None:
    script = TaskScript(duration=60, outcome="failed", fail_code=code, fail_message=f"[{code}] no")
    async with core_world(tmp_path, script=script) as w:
        job = await w.submit()
        ended = await finished(w, job.id)
        assert ended.state is JobState.FAILED
        [(_, raised)] = w.delivery.failures
        assert isinstance(raised, TaskFailed | ModerationBlocked)
        assert ended.error_detail == code
        assert [e.kind for e in await w.store.ledger(job.id)] == ["reserve", "release"]


async def test_poll_errors_are_ridden_out(tmp_path: Path) -> None:
    async with core_world(tmp_path) as w:
        w.fake.poll_faults.extend(["5xx", "429", "garbage", "reset", "5xx"])
        job = await w.submit()
        assert (await finished(w, job.id)).state is JobState.DONE
        assert len(w.fake.creates()) == 1


async def test_unknown_task_expires_the_job(tmp_path: Path) -> None:
    async with core_world(tmp_path) as w:
        job = await w.submit()
        await eventually(lambda: w.fake.tasks, what="a task")
        w.fake.expire(next(iter(w.fake.tasks)))
        ended = await finished(w, job.id)
        assert ended.state is JobState.EXPIRED
        assert isinstance(w.delivery.failures[0][1], TaskExpired)


async def test_deadline_expires_the_job(tmp_path: Path) -> None:
    config = RunnerConfig(poll_deadline=300)
    async with core_world(tmp_path, script=TaskScript(duration=3000), config=config) as w:
        job = await w.submit()
        ended = await finished(w, job.id)
        assert ended.state is JobState.EXPIRED and ended.error_detail == "deadline"
        assert [e.kind for e in await w.store.ledger(job.id)] == ["reserve", "release"]
        # Not cut short: the job ran out only once 300 s had passed since its submission.
        assert ended.submitted_at is not None
        assert ended.updated_at - ended.submitted_at >= 300 - FLOAT
        # Polling stopped with the job (a busy machine delays polls, so no upper bound on
        # when the last one arrived: only that none came after, and never more than the
        # 3-second floor allows in 300 s).
        polls = w.fake.polls()
        assert all(p.at <= ended.updated_at for p in polls)
        assert len(polls) <= 300 / MIN_POLL_GAP + 1


async def test_video_over_the_cap_is_delivered_as_a_link(tmp_path: Path) -> None:
    config = RunnerConfig(max_video_bytes=1000)
    async with core_world(tmp_path, config=config) as w:
        job = await w.submit()
        assert (await finished(w, job.id)).state is JobState.DONE
        [delivered] = w.delivery.delivered
        assert delivered.result.file is None and delivered.result.url.startswith(w.fake.base_url)


async def test_expired_download_link_fails_without_charge(tmp_path: Path) -> None:
    async with core_world(tmp_path) as w:
        w.fake.download_faults.extend(["403"] * 3)
        job = await w.submit()
        ended = await finished(w, job.id)
        assert ended.state is JobState.FAILED and ended.error_kind == "DownloadError"
        assert [e.kind for e in await w.store.ledger(job.id)] == ["reserve", "release"]


async def test_cancel_while_queued_never_submits(tmp_path: Path, store_url: str) -> None:
    async with core_world(tmp_path, config=RunnerConfig(global_cap=1), store_url=store_url) as w:
        first = await w.submit(user_id=1)
        second = await w.submit(user_id=2)
        canceled = await w.runner.cancel(second.id)
        assert canceled is not None and canceled.state is JobState.CANCELED
        await finished(w, first.id)
        assert len(w.fake.creates()) == 1
        assert [e.kind for e in await w.store.ledger(second.id)] == ["reserve", "release"]
        assert await w.runner.cancel(first.id) is None


async def test_fair_queue_and_global_cap(tmp_path: Path, store_url: str) -> None:
    config = RunnerConfig(global_cap=2, per_user_cap=2)
    async with core_world(tmp_path, config=config, store_url=store_url) as w:
        # The first two run until every job is queued, however slow the machine: then the
        # fair queue, not the order of arrival, decides who goes next.
        gate = asyncio.Event()
        w.fake.scripts.extend([TaskScript(held=gate), TaskScript(held=gate)])
        a_jobs = [await w.submit(user_id=1) for _ in range(5)]
        b_job = await w.submit(user_id=2)
        gate.set()
        for job in [*a_jobs, b_job]:
            await finished(w, job.id, timeout=30)
        order = [r.json["input"]["prompt"] for r in w.fake.creates()]
        assert len(order) == 6
        starts = {j.id: (await w.store.get_job(j.id)).submitted_at for j in [*a_jobs, b_job]}
        assert starts[b_job.id] < starts[a_jobs[2].id]
        assert w.fake.max_active <= 2


async def test_restart_resumes_running_job_without_resubmitting(
    tmp_path: Path, store_url: str
) -> None:
    async with core_world(tmp_path, store_url=store_url) as w:
        job = await w.submit()
        stored = await stored_state(w, job.id, JobState.RUNNING)
        await w.restart()
        assert (await finished(w, job.id)).state is JobState.DONE
        assert len(w.fake.creates()) == 1
        assert len(w.delivery.delivered) == 1
        assert [e.kind for e in await w.store.ledger(job.id)] == ["reserve", "commit"]
        assert stored.task_id is not None


async def test_restart_while_submitting_fails_without_a_second_create(
    tmp_path: Path, store_url: str
) -> None:
    # No grace: the stop cuts the create off, as a crash would.
    config = RunnerConfig(submit_grace=0)
    async with core_world(tmp_path, config=config, store_url=store_url) as w:
        w.fake.create_faults.append("slow")
        job = await w.submit()
        await eventually(w.fake.creates, what="a create")
        await w.restart()
        ended = await finished(w, job.id)
        assert ended.state is JobState.FAILED and ended.error_kind == UnknownOutcome.__name__
        assert len(w.fake.creates()) == 1


async def test_stop_waits_for_a_create_already_sent(tmp_path: Path) -> None:
    async with core_world(tmp_path) as w:
        w.fake.slow_delay = 120.0  # the create answers after 0.3 s of real time
        w.fake.create_faults.append("slow")
        job = await w.submit()
        await eventually(w.fake.creates, what="a create")
        await w.restart()  # a clean stop: the answer is awaited and its task id stored
        assert (await finished(w, job.id)).state is JobState.DONE
        assert len(w.fake.creates()) == 1
        assert len(w.delivery.delivered) == 1
        assert [e.kind for e in await w.store.ledger(job.id)] == ["reserve", "commit"]


def test_link_expiry_comes_from_the_signed_url() -> None:
    assert link_expiry("https://x/v.mp4?Expires=1700000000&Signature=a", 5.0) == 1700000000.0
    assert link_expiry("https://x/v.mp4", 100.0) == 100.0 + 24 * 3600
    assert link_expiry("https://x/v.mp4?Expires=soon", 100.0) == 100.0 + 24 * 3600
