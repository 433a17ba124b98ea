"""Usage as a picture and the ledger as CSV, end to end over the fake Discord: the chart that
``/hh-admin usage`` and ``/quota`` attach (a valid PNG of the promised size, whose content
follows the data) and ``/hh-admin export`` (rows that sum to the usage report, split into
several files, each with the header, when a file would be too large)."""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

from cogs.admin import AdminCog
from cogs.ui import strings as s
from cogs.ui.charts import SERVER_FILE, USER_FILE
from hh_bot.errors import BadInput
from hh_bot.reports.charts import SERVER_SIZE, USER_SIZE
from hh_bot.reports.export import HEADER
from tests.bot_world import BotWorld, bot_world
from tests.fakes.discord_payloads import ADMIN_ID, ALICE_ID, BOB_ID, StoredMessage
from tests.test_charts import png_size
from tests.test_e2e_admin import admin, all_final, start_of_a_day

PROMPTS = ("alice rides a horse", "bob rides a horse", "alice again")


def world(tmp_path: Path, **overrides: Any):
    return bot_world(tmp_path, allow_errors=(BadInput,), **overrides)


async def deliver_three(w: BotWorld) -> None:
    """Three delivered videos this month: two of Alice's, one of Bob's."""
    for prompt, user in zip(PROMPTS, (ALICE_ID, BOB_ID, ALICE_ID), strict=True):
        text = await w.private_answer(await w.video(prompt, user=user))
        assert "accepted" in text, text
    await all_final(w)


def png_of(message: StoredMessage, filename: str) -> bytes:
    (attachment,) = message.attachments
    assert attachment.filename == filename
    return attachment.data


async def quota_answer(w: BotWorld) -> StoredMessage:
    handle = await w.discord.invoke_slash("quota", user=ALICE_ID)
    message = await w.discord.wait_for_original(
        handle.token, until=lambda m: bool(m.embeds) and not m.loading
    )
    assert message.ephemeral
    return message


async def test_usage_attaches_the_month_chart_empty_or_not(tmp_path: Path) -> None:
    async with world(tmp_path) as w:
        start_of_a_day(w)
        empty = await admin(w, "usage")
        assert empty.content == s.ADMIN_NO_USAGE
        empty_png = png_of(empty, SERVER_FILE)
        assert png_size(empty_png) == SERVER_SIZE

        await deliver_three(w)
        report = await admin(w, "usage")
        embed = report.embeds[0]
        assert embed["image"]["url"] == f"attachment://{SERVER_FILE}"
        assert "$1.89" in embed["title"]  # the table is still there, beside the chart
        full_png = png_of(report, SERVER_FILE)
        assert png_size(full_png) == SERVER_SIZE
        assert full_png != empty_png


async def test_quota_shows_the_members_month_as_a_small_chart(tmp_path: Path) -> None:
    async with world(tmp_path) as w:
        start_of_a_day(w)
        before = await quota_answer(w)
        assert before.embeds[0]["image"]["url"] == f"attachment://{USER_FILE}"
        empty_png = png_of(before, USER_FILE)
        assert png_size(empty_png) == USER_SIZE
        await deliver_three(w)
        after_png = png_of(await quota_answer(w), USER_FILE)
        assert png_size(after_png) == USER_SIZE
        assert after_png != empty_png


def parsed(messages: list[StoredMessage]) -> list[list[str]]:
    """Every attachment's rows, each file checked to open with the header."""
    rows: list[list[str]] = []
    for message in messages:
        assert message.ephemeral
        for attachment in message.attachments:
            assert attachment.filename.endswith(".csv")
            table = list(csv.reader(io.StringIO(attachment.data.decode())))
            assert tuple(table[0]) == HEADER
            rows += table[1:]
    return rows


def milli(text: str) -> int:
    whole, frac = text.split(".")
    return int(whole) * 1000 + int(frac)


async def test_export_sums_to_the_usage_report_and_splits_when_too_large(tmp_path: Path) -> None:
    async with world(tmp_path) as w:
        start_of_a_day(w)
        await deliver_three(w)
        report = await w.services.store.usage_report(
            None, w.clock.now() - 86400 * 31, w.clock.now() + 1
        )
        handle = await w.discord.invoke_slash("hh-admin export", {}, user=ADMIN_ID)
        first = await w.discord.wait_for_original(
            handle.token, until=lambda m: bool(m.attachments) and not m.loading
        )
        rows = parsed([first])
        assert len(rows) == 6  # a reserve and a commit per delivered job
        assert sum(milli(r[4]) for r in rows) == sum(r.committed for r in report) == 1890
        assert sum(milli(r[5]) for r in rows) == sum(r.possibly_billed for r in report)
        assert {r[1] for r in rows} == {str(ALICE_ID), str(BOB_ID)}

        cog = w.bot.get_cog("AdminCog")  # loaded as an extension: its own module object
        assert type(cog).__name__ == AdminCog.__name__ and hasattr(cog, "export_part_bytes")
        cog.export_part_bytes = 300
        handle = await w.discord.invoke_slash("hh-admin export", {}, user=ADMIN_ID)
        await w.discord.wait_for_original(
            handle.token, until=lambda m: bool(m.attachments) and not m.loading
        )
        await w.discord.wait_for(lambda: len(w.discord.followups(handle.token)) >= 1)
        original = w.discord.original_message(handle.token)
        assert original is not None

        def whole() -> list[StoredMessage] | None:
            messages = [original, *w.discord.followups(handle.token)]
            return messages if len(parsed(messages)) == len(rows) else None

        messages = await w.discord.wait_for(whole)
        assert len(messages) >= 2 and all(len(m.attachments) == 1 for m in messages)
        assert all(m.attachments[0].size <= 300 for m in messages)
        assert sorted(parsed(messages)) == sorted(rows)


async def test_export_of_a_bad_month_is_refused_privately(tmp_path: Path) -> None:
    async with world(tmp_path) as w:
        for bad in ("november", "2026-13", "26-11", "2026-11-01"):
            answer = await admin(w, "export", {"period": bad})
            assert answer.content == s.ADMIN_EXPORT_BAD_PERIOD, bad
            assert not answer.attachments
        empty = await admin(w, "export", {"period": "2020-01"})
        assert parsed([empty]) == []
