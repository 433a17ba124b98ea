"""A job as a row of the ``jobs`` table: the columns in order, and the mapping both ways.

``charge`` (reserved | committed | released) is the one column a ``Job`` does not carry: the
store sets it when it settles the job's ledger (see ``hh_bot/store/tx.py``).
"""

from __future__ import annotations

import json
import sqlite3
from typing import Any

from hh_bot.jobs.model import Job, JobParams, JobState, ReplyTarget

JOB_COLUMNS = (
    "id, user_id, guild_id, state, params, reply, cost, charge, created_at, updated_at, "
    "task_id, progress, submitted_at, completed_at, finished_at, result_url, "
    "result_message_id, error_kind, error_detail"
)


def row_to_job(row: sqlite3.Row | tuple[Any, ...]) -> Job:
    """The job of a row selected as ``JOB_COLUMNS`` (extra columns after them are ignored)."""
    return Job(
        id=row[0],
        user_id=row[1],
        guild_id=row[2],
        state=JobState(row[3]),
        params=JobParams.from_json(json.loads(row[4])),
        reply=ReplyTarget.from_json(json.loads(row[5])),
        cost=row[6],
        created_at=row[8],
        updated_at=row[9],
        task_id=row[10],
        progress=row[11],
        submitted_at=row[12],
        completed_at=row[13],
        finished_at=row[14],
        result_url=row[15],
        result_message_id=row[16],
        error_kind=row[17],
        error_detail=row[18],
    )


def job_values(job: Job, charge: str | None) -> tuple[Any, ...]:
    """The values of ``JOB_COLUMNS`` for ``job``, in order."""
    return (
        job.id,
        job.user_id,
        job.guild_id,
        job.state.value,
        json.dumps(job.params.to_json()),
        json.dumps(job.reply.to_json()),
        job.cost,
        charge,
        job.created_at,
        job.updated_at,
        job.task_id,
        job.progress,
        job.submitted_at,
        job.completed_at,
        job.finished_at,
        job.result_url,
        job.result_message_id,
        job.error_kind,
        job.error_detail,
    )
