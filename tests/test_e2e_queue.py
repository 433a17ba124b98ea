"""The fair queue end to end: users take turns for the shared key's few slots, each reply shows
where its job stands in the queue and follows it as it moves, and the API never sees more
active tasks than the global cap."""

from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path

import pytest

from hh_bot.jobs.model import JobState
from tests.bot_world import bot_world, default_limits
from tests.fakes.discord_payloads import ALICE_ID, BOB_ID, StoredMessage
from tests.fakes.happyhorse import TaskScript
from tests.waiting import eventually

POSITION = re.compile(r"Position in queue: \*\*(\d+)\*\*")


def positions_shown(w, message: StoredMessage) -> list[int]:
    """Every queue position the bot showed on the message, in order (repeats collapsed)."""
    shown: list[int] = []
    for request in w.discord.edits_of(message.id):
        embeds = (request.json or {}).get("embeds") or []
        found = POSITION.search(str(embeds[0].get("description", ""))) if embeds else None
        if found and (not shown or shown[-1] != int(found[1])):
            shown.append(int(found[1]))
    return shown


def assert_moved_up(shown: list[int], *, behind_bob: int) -> None:
    assert behind_bob in shown, shown
    after = shown[shown.index(behind_bob) :]
    assert after == sorted(after, reverse=True) and after[-1] == 1, shown


@pytest.mark.two_bots
async def test_a_later_user_starts_before_a_burst_and_the_cap_holds(tmp_path: Path) -> None:
    limits = replace(default_limits(), global_active_cap=2, max_concurrent_per_user=2)
    async with bot_world(tmp_path, limits=limits) as w:
        # Alice's first two jobs hold both slots for a while (ending far apart, so that one
        # slot frees at a time); everything after is short.
        w.hh.scripts.extend([TaskScript(duration=300), TaskScript(duration=600)])
        w.hh.default_script = TaskScript(duration=60)
        replies = {}
        for n in range(1, 6):
            handle = await w.video(f"alice {n}", user=ALICE_ID)
            replies[f"alice {n}"] = await w.discord.wait_for(lambda h=handle: w.reply_of(h))
        handle = await w.video("bob 1", user=BOB_ID)
        replies["bob 1"] = await w.discord.wait_for(lambda: w.reply_of(handle))

        # Bob's job goes to the head of the queue at once: Alice has been served, Bob not.
        await w.discord.wait_for(lambda: positions_shown(w, replies["bob 1"]) == [1])
        await w.discord.wait_for(lambda: positions_shown(w, replies["alice 3"])[-1:] == [2])

        store = w.services.store

        async def all_done() -> bool:
            jobs = await store.jobs_in_states(list(JobState))
            return len(jobs) == 6 and all(j.state is JobState.DONE for j in jobs)

        await eventually(all_done, timeout=20, what="every job done")
        order = [r.json["input"]["prompt"] for r in w.hh.creates()]
        assert order[:2] == ["alice 1", "alice 2"]
        assert order.index("bob 1") < order.index("alice 3"), order
        assert sorted(order) == sorted(replies)
        assert w.hh.max_active <= 2

        # Alice's last job was shown pushed back behind Bob's, then moving up to the front.
        # Intermediate positions may be skipped (a reply is repainted at most once per edit
        # interval, and not at all while the channel's message budget is spent), but the
        # current one always ends up shown.
        assert_moved_up(positions_shown(w, replies["alice 5"]), behind_bob=4)
        assert_moved_up(positions_shown(w, replies["alice 3"]), behind_bob=2)
        # Once started, a job no longer shows a position.
        final = replies["alice 5"].embeds[0]["description"]
        assert not POSITION.search(final)
