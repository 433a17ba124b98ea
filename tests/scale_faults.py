"""The fault-matrix rows of scale-out (``tests/test_matrix_faults.py``): a PostgreSQL restart, a
lease holder frozen past its lease, two processes with the same shard ids, a wrong
DATABASE_URL. Each runs the real bot (in process, or as subprocesses) on a PostgreSQL server of
its own and returns what it observed as the matrix's ``Outcome``.
"""

from __future__ import annotations

import asyncio
import socket
from pathlib import Path

from tests.pg_server import own_server
from tests.scale_world import scale_world
from tests.test_failover_pg_restart import pg_world, restart_mid_run
from tests.test_failover_sigstop import frozen_past_the_lease
from tests.test_launcher import bot_env, start_bot

FILE = "the video, attached"  # as tests/test_matrix_faults.py says it
SHARDS_TAKEN = "shard(s) 1 of 2 are already run by another bot process"
NO_DATABASE = "cannot connect to PostgreSQL at"

Seen = tuple[str, str, str, tuple[str, ...], int, bool]
"""(state, where, message, ledger, creates, billed): the fields of the matrix's ``Outcome``."""


async def pg_restart_mid_job(tmp: Path) -> Seen:
    seen = await restart_mid_run(tmp)
    message = FILE if seen.videos == 1 else f"{seen.videos} videos"
    return (seen.state, seen.where, message, seen.ledger, seen.creates, seen.state == "done")


async def pg_down_at_admission(tmp: Path) -> Seen:
    """A /video while the server is down: a private answer, nothing stored once it is back."""
    async with pg_world(tmp) as (w, pg):
        await asyncio.to_thread(pg.halt)
        try:
            handle = await w.video()
            answer = await w.private_answer(handle, timeout=10)
        finally:
            await asyncio.to_thread(pg.resume)
        jobs, entries = await w.rows()
        state = "none" if not jobs else "admitted"
        ledger = ("?",) * entries
        return (state, "private", answer, ledger, w.creates(), False)


async def frozen_lease_holder(tmp: Path) -> Seen:
    with own_server() as pg:
        seen = await frozen_past_the_lease(tmp, await pg.fresh_url())
    once = seen.uploads == seen.video_messages == 1 and seen.taken_over and seen.frozen_stopped
    message = FILE if once else f"{seen}"
    return (seen.state, seen.where, message, seen.ledger, seen.creates, seen.state == "done")


async def same_shard_ids(tmp: Path) -> Seen:
    """A second process given a shard the first runs: refused at start, exit 2, one line."""
    with own_server() as pg:
        async with scale_world(tmp, await pg.fresh_url()) as w:
            await w.start("0,1")
            await w.ready()
            second = await w.start("1")
            code = await asyncio.wait_for(second.proc.wait(), 60)
            assert second.drain is not None
            await second.drain
            lines = [x for x in second.logs if "shard" in x]
            said = SHARDS_TAKEN if len(lines) == 1 and SHARDS_TAKEN in lines[0] else f"{lines}"
            assert "Traceback" not in second.output, second.output
            return ("none", "start", f"exit {code}: {said}", (), len(w.hh.creates()), False)


async def wrong_database_url(tmp: Path) -> Seen:
    """DATABASE_URL names a PostgreSQL nobody listens on: one line, exit 1, password unsaid."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = int(sock.getsockname()[1])
    url = f"postgresql://hh:hunter2@127.0.0.1:{port}/hh"
    env = {**bot_env(tmp, "http://127.0.0.1:9", "http://127.0.0.1:9"), "DATABASE_URL": url}
    proc = await start_bot(tmp, env)
    out, _ = await asyncio.wait_for(proc.communicate(), 60)
    lines = out.decode().splitlines()
    said = NO_DATABASE if len(lines) == 1 and NO_DATABASE in lines[0] else f"{lines}"
    if "hunter2" in out.decode():
        said = "the password was shown"
    return ("none", "start", f"exit {proc.returncode}: {said}", (), 0, False)
