"""A job as a row of the ``jobs`` table: the columns in order, and the mapping both ways.

This is the one place that knows the column order: the SELECT list, the INSERT and the UPDATE
statements are all derived from ``JOB_FIELDS``.

``charge`` (reserved | committed | released) is the one column a ``Job`` does not carry: the
store sets it when it settles the job's ledger (see ``hh_bot/store/tx.py``).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from hh_bot.jobs.model import Job, JobParams, JobState, ReplyTarget, VideoFacts

JOB_FIELDS: tuple[str, ...] = (
    "id",
    "user_id",
    "guild_id",
    "state",
    "params",
    "reply",
    "cost",
    "charge",
    "created_at",
    "updated_at",
    "task_id",
    "progress",
    "submitted_at",
    "completed_at",
    "finished_at",
    "result_url",
    "result_message_id",
    "error_kind",
    "error_detail",
    "result_channel_id",
    "parent_id",
    "origin",
    "source_channel_id",
    "source_message_id",
    "video_facts",
)
JOB_COLUMNS = ", ".join(JOB_FIELDS)
INSERT_JOB = f"INSERT INTO jobs ({JOB_COLUMNS}) VALUES ({', '.join('?' * len(JOB_FIELDS))})"
UPDATE_JOB = f"UPDATE jobs SET {', '.join(f'{c} = ?' for c in JOB_FIELDS[1:])} WHERE id = ?"


def row_to_job(row: Sequence[Any]) -> Job:
    """The job of a row selected as ``JOB_COLUMNS`` (extra columns after them are ignored)."""
    v = dict(zip(JOB_FIELDS, row, strict=False))
    return Job(
        id=v["id"],
        user_id=v["user_id"],
        guild_id=v["guild_id"],
        state=JobState(v["state"]),
        params=JobParams.from_json(json.loads(v["params"])),
        reply=ReplyTarget.from_json(json.loads(v["reply"])),
        cost=v["cost"],
        created_at=v["created_at"],
        updated_at=v["updated_at"],
        task_id=v["task_id"],
        progress=v["progress"],
        submitted_at=v["submitted_at"],
        completed_at=v["completed_at"],
        finished_at=v["finished_at"],
        result_url=v["result_url"],
        result_message_id=v["result_message_id"],
        error_kind=v["error_kind"],
        error_detail=v["error_detail"],
        result_channel_id=v["result_channel_id"],
        parent_id=v["parent_id"],
        origin=v["origin"] or "command",
        source_channel_id=v["source_channel_id"],
        source_message_id=v["source_message_id"],
        video_facts=_facts(v["video_facts"]),
    )


def _facts(text: str | None) -> VideoFacts | None:
    return None if text is None else VideoFacts.from_json(json.loads(text))


def job_values(job: Job, charge: str | None) -> tuple[Any, ...]:
    """The values of ``JOB_FIELDS`` for ``job``, in order."""
    values: dict[str, Any] = {
        "id": job.id,
        "user_id": job.user_id,
        "guild_id": job.guild_id,
        "state": job.state.value,
        "params": json.dumps(job.params.to_json()),
        "reply": json.dumps(job.reply.to_json()),
        "cost": job.cost,
        "charge": charge,
        "created_at": job.created_at,
        "updated_at": job.updated_at,
        "task_id": job.task_id,
        "progress": job.progress,
        "submitted_at": job.submitted_at,
        "completed_at": job.completed_at,
        "finished_at": job.finished_at,
        "result_url": job.result_url,
        "result_message_id": job.result_message_id,
        "error_kind": job.error_kind,
        "error_detail": job.error_detail,
        "result_channel_id": job.result_channel_id,
        "parent_id": job.parent_id,
        "origin": job.origin,
        "source_channel_id": job.source_channel_id,
        "source_message_id": job.source_message_id,
        "video_facts": None if job.video_facts is None else json.dumps(job.video_facts.to_json()),
    }
    return tuple(values[c] for c in JOB_FIELDS)
