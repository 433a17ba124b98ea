"""The result buttons after a restart: a new bot process on the same database finds the job of a
Retry or Remix click in the store (the buttons are DynamicItems, re-registered from their
custom ids); nothing is kept in memory between the two."""

from __future__ import annotations

from pathlib import Path

import pytest

from cogs.ui import strings as s
from tests.crash_world import crash_world
from tests.fakes.discord_payloads import ALICE_ID, BOB_ID
from tests.waiting import eventually


@pytest.mark.slow
async def test_retry_and_remix_work_after_a_restart(tmp_path: Path) -> None:
    async with crash_world(tmp_path) as w:
        await w.start()
        await w.video("before the restart")
        done = await w.wait_final("before the restart")
        assert done.state == "done" and done.result_message_id is not None
        await w.stop()
        await w.start()

        result = w.discord.messages[done.result_message_id]
        click = await w.discord.click_button(result.id, f"hh:retry:{done.id}", user=BOB_ID)
        said = await w.discord.wait_for_original(click.token, until=lambda m: bool(m.content))
        assert said.ephemeral and f"<@{ALICE_ID}>" in str(said.content)

        def children() -> list[tuple[str, int, str, str]] | None:
            rows = w.query(
                "SELECT origin, user_id, state, charge FROM jobs WHERE parent_id = ?"
                " ORDER BY created_at",
                (done.id,),
            )
            return rows if rows and all(r[2] == "done" for r in rows) else None

        assert await eventually(children, timeout=30) == [("retry", BOB_ID, "done", "committed")]

        click = await w.discord.click_button(result.id, f"hh:remix:{done.id}")
        await w.discord.wait_for(lambda: bool(w.discord.modals), timeout=20)
        modal = w.discord.modals[-1]
        assert modal.data["title"] == s.REMIX_TITLE
        await w.discord.submit_modal(modal.custom_id, {"prompt": "remixed after the restart"})
        remixed = await w.wait_final("remixed after the restart")
        assert remixed.state == "done" and remixed.user_id == ALICE_ID
        assert w.creates_for("before the restart") == 2
