"""/hh-admin purge-user end to end: the member's prompt is nowhere in the SQLite files
afterwards (main file and WAL), the usage totals are what they were, other members' jobs are
theirs and kept, and the confirmation says what Discord keeps."""

from __future__ import annotations

from pathlib import Path

import pytest

from cogs.ui import strings as s
from hh_bot.access.purge import ANONYMOUS_ID
from tests.bot_world import BotWorld, bot_world
from tests.fakes.discord_payloads import ALICE_ID, BOB_ID
from tests.test_e2e_admin import admin, all_final, start_of_a_day
from tests.test_e2e_settings import settings

ALICE_PROMPT = "character1 feeds a quokka named Zorblatt-7f3e9c on a violet glacier"
ALICE_SECOND = "character1 whistles to Zorblatt-7f3e9c"
BOB_PROMPT = "character1 paints the lighthouse Quenmark-41d2"


def file_bytes(w: BotWorld) -> bytes:
    """The database's main file and its WAL, as they are on disk now."""
    main = w.tmp / "hh.sqlite3"
    wal = main.with_name(main.name + "-wal")
    return main.read_bytes() + (wal.read_bytes() if wal.exists() else b"")


async def totals(w: BotWorld) -> tuple[int, int, int, int]:
    rows = await w.services.store.usage_report(None, 0, w.clock.now() + 1)
    return (
        sum(r.jobs for r in rows),
        sum(r.committed for r in rows),
        sum(r.possibly_billed for r in rows),
        sum(e.amount for e in await w.services.store.ledger()),
    )


@pytest.mark.sqlite_file
async def test_purge_removes_the_members_text_from_the_file_and_keeps_totals(
    tmp_path: Path,
) -> None:
    async with bot_world(tmp_path) as w:
        start_of_a_day(w)
        for prompt, user in ((ALICE_PROMPT, ALICE_ID), (ALICE_SECOND, ALICE_ID),
                             (BOB_PROMPT, BOB_ID)):  # fmt: skip
            assert "accepted" in await w.private_answer(await w.video(prompt, user=user))
        await all_final(w)
        await settings(w, suffix="Suffixia-88d1")  # Alice's own words in her /settings
        before = await totals(w)
        assert b"Zorblatt-7f3e9c" in file_bytes(w), "the test would prove nothing"
        assert b"Suffixia-88d1" in file_bytes(w)

        answer = await admin(w, "purge-user", {"member": ALICE_ID})
        assert answer.content == s.ADMIN_PURGED.format(member=f"<@{ALICE_ID}>", jobs=2)
        assert "Discord" in answer.content and "retrying" in answer.content

        data = file_bytes(w)
        assert b"Zorblatt-7f3e9c" not in data and b"Suffixia-88d1" not in data
        assert await w.services.store.user_settings(ALICE_ID) is None
        assert "Zorblatt-7f3e9c".encode("utf-16-le") not in data
        assert b"Quenmark-41d2" in data, "Bob's job is his and stays"
        assert await totals(w) == before
        store = w.services.store
        assert await store.user_jobs(ALICE_ID) == []
        anonymous = await store.user_jobs(ANONYMOUS_ID)
        assert len(anonymous) == 2
        assert all(j.params.prompt == "" and j.params.image_urls == () for j in anonymous)
        assert all(j.result_url is None and j.reply.interaction_token == "" for j in anonymous)
        [bob] = await store.user_jobs(BOB_ID)
        assert bob.params.prompt == BOB_PROMPT and bob.params.image_urls

        report = await admin(w, "usage")  # the chart and table still render, totals kept
        assert s.money(before[1]) in report.embeds[0]["title"]
        assert s.CHART_ANONYMOUS in report.embeds[0]["description"]
        assert f"<@{ALICE_ID}>" not in report.embeds[0]["description"]


@pytest.mark.sqlite_file
async def test_a_user_who_left_the_server_can_be_purged(tmp_path: Path) -> None:
    async with bot_world(tmp_path) as w:
        start_of_a_day(w)
        leaver = w.add_member("leaver")
        text = await w.private_answer(await w.video(ALICE_PROMPT, user=leaver.id))
        assert "accepted" in text
        await all_final(w)
        del w.discord.guild.members[leaver.id]
        answer = await admin(w, "purge-user", {"member": leaver.id})
        assert answer.content == s.ADMIN_PURGED.format(member=f"<@{leaver.id}>", jobs=1)
        assert b"Zorblatt-7f3e9c" not in file_bytes(w)
