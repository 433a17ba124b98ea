"""The job state machine: which transitions exist, final timestamps, JSON round trips."""

from __future__ import annotations

import pytest

from hh_bot.jobs.model import (
    ALLOWED,
    FINAL_STATES,
    InvalidTransition,
    Job,
    JobParams,
    JobState,
    ReplyTarget,
    new_job_id,
)

S = JobState

PARAMS = JobParams(
    prompt="a horse on a beach",
    image_urls=("https://cdn.discordapp.com/a.png", "https://example.com/b.jpg"),
    image_labels=("image 1", "https://example.com/b.jpg"),
    resolution="1080P",
    duration=8,
    ratio="9:16",
    watermark=True,
    prompt_extend=False,
    seed=1234,
)
REPLY = ReplyTarget(
    channel_id=11,
    application_id=22,
    interaction_token="tok",
    token_expires_at=1_700_000_900.0,
    message_id=33,
    interaction_upload_limit=25 * 1024 * 1024,
    guild_upload_limit=8 * 1024 * 1024,
)


def job_in(state: JobState) -> Job:
    return Job(
        id="j1",
        user_id=1,
        guild_id=2,
        params=PARAMS,
        reply=REPLY,
        cost=100,
        created_at=1000.0,
        state=state,
    )


ALLOWED_PAIRS = [
    (S.QUEUED, S.SUBMITTING),
    (S.QUEUED, S.CANCELED),
    (S.QUEUED, S.FAILED),
    (S.QUEUED, S.EXPIRED),
    (S.SUBMITTING, S.RUNNING),
    (S.SUBMITTING, S.FAILED),
    (S.SUBMITTING, S.EXPIRED),
    (S.RUNNING, S.DOWNLOADING),
    (S.RUNNING, S.DELIVERING),
    (S.RUNNING, S.FAILED),
    (S.RUNNING, S.EXPIRED),
    (S.DOWNLOADING, S.DELIVERING),
    (S.DOWNLOADING, S.FAILED),
    (S.DOWNLOADING, S.EXPIRED),
    (S.DELIVERING, S.DONE),
    (S.DELIVERING, S.DOWNLOADING),
    (S.DELIVERING, S.FAILED),
    (S.DELIVERING, S.EXPIRED),
]
FORBIDDEN_PAIRS = [(a, b) for a in S for b in S if a != b and (a, b) not in set(ALLOWED_PAIRS)]


def test_table_matches_the_machine() -> None:
    table = {(a, b) for a, targets in ALLOWED.items() for b in targets}
    assert table == set(ALLOWED_PAIRS)


@pytest.mark.parametrize(("source", "target"), ALLOWED_PAIRS)
def test_allowed_transition(source: JobState, target: JobState) -> None:
    job = job_in(source).advance(target, 2000.0)
    assert job.state is target
    assert job.updated_at == 2000.0


@pytest.mark.parametrize(("source", "target"), FORBIDDEN_PAIRS)
def test_forbidden_transition(source: JobState, target: JobState) -> None:
    with pytest.raises(InvalidTransition):
        job_in(source).advance(target, 2000.0)


def test_notable_forbidden_transitions() -> None:
    assert (S.RUNNING, S.CANCELED) in FORBIDDEN_PAIRS  # the API cannot cancel a task
    assert (S.QUEUED, S.DONE) in FORBIDDEN_PAIRS
    for final in FINAL_STATES:
        assert all((final, other) in FORBIDDEN_PAIRS for other in S if other != final)


def test_same_state_is_an_update_not_a_transition() -> None:
    job = job_in(S.RUNNING).advance(S.RUNNING, 1500.0, progress=40)
    assert job.progress == 40
    assert job.finished_at is None


def test_final_state_sets_finished_at_once() -> None:
    running = job_in(S.RUNNING)
    assert running.finished_at is None
    done = running.advance(S.DOWNLOADING, 10.0).advance(S.DELIVERING, 20.0).advance(S.DONE, 30.0)
    assert done.finished_at == 30.0
    assert done.advance(S.DONE, 99.0).finished_at == 30.0
    for final in (S.FAILED, S.EXPIRED):
        assert running.advance(final, 40.0).finished_at == 40.0
    assert job_in(S.QUEUED).advance(S.CANCELED, 50.0).finished_at == 50.0


def test_unfinished_states_have_no_finished_at() -> None:
    job = job_in(S.QUEUED).advance(S.SUBMITTING, 1.0).advance(S.RUNNING, 2.0, task_id="t")
    assert job.finished_at is None
    assert job.task_id == "t"


def test_advance_leaves_the_original_untouched() -> None:
    job = job_in(S.QUEUED)
    job.advance(S.SUBMITTING, 5.0)
    assert job.state is S.QUEUED


def test_final_and_submitted_flags() -> None:
    assert {s for s in S if s.final} == FINAL_STATES
    assert not S.QUEUED.submitted
    assert not S.CANCELED.submitted
    assert S.SUBMITTING.submitted
    assert S.DONE.submitted


def test_params_json_round_trip() -> None:
    assert JobParams.from_json(PARAMS.to_json()) == PARAMS
    bare = JobParams("p", ("https://x/a.png",), ("image 1",), "720P", 5, "16:9", False)
    assert JobParams.from_json(bare.to_json()) == bare


def test_reply_json_round_trip() -> None:
    assert ReplyTarget.from_json(REPLY.to_json()) == REPLY
    no_token = ReplyTarget(1, 2, None, 0.0)
    assert ReplyTarget.from_json(no_token.to_json()) == no_token


def test_json_survives_a_text_round_trip() -> None:
    import json

    data = json.loads(json.dumps(PARAMS.to_json()))
    assert JobParams.from_json(data) == PARAMS
    assert ReplyTarget.from_json(json.loads(json.dumps(REPLY.to_json()))) == REPLY


def test_job_ids_are_unique_and_short() -> None:
    ids = {new_job_id() for _ in range(500)}
    assert len(ids) == 500
    assert all(len(i) == 10 for i in ids)
