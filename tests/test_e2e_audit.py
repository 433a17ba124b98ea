"""The audit channel end to end over the fake Discord: /hh-admin audit-channel set|show|clear,
one line per job event (admitted, delivered with a link to the result, ended with its refund,
a moderation strike), admin actions with who did them, and not one ping on the wire. Also:
/hh-admin purge-user deletes the member's archived originals."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from cogs.ui import strings as s
from hh_bot.config import MediaSettings
from hh_bot.jobs.model import JobState
from tests.bot_world import BotWorld
from tests.fakes.discord_payloads import ADMIN_ID, ALICE_ID, BOB_ID, GUILD_ID, StoredMessage
from tests.fakes.happyhorse import TaskScript
from tests.test_e2e_admin import admin, all_final, world
from tests.test_e2e_buttons import HOLD, ONE_SLOT, answer, finish_now, job_id_in, reply, stored

FACTOR = 50.0
QUICK = TaskScript(duration=30)
PROMPT = "character1 waves at @everyone and <@{bob}> under **bold** stars"


def audit_world(tmp: Path, **overrides: Any) -> Any:
    return world(tmp, factor=FACTOR, script=overrides.pop("script", QUICK), **overrides)


async def set_audit(w: BotWorld, name: str = "audit", **options: Any) -> int:
    """A new text channel made the audit channel by the admin; its id, once its first line
    (the admin action itself) is there."""
    channel = w.discord.add_text_channel(GUILD_ID, name)
    answer = await admin(w, "audit-channel", {"action": "set", "channel": channel.id, **options})
    assert answer.content.startswith(
        s.ADMIN_AUDIT_SET.format(channel=f"<#{channel.id}>", admin=f"<@{ADMIN_ID}>")
    )
    await lines(w, channel.id, 1)
    return channel.id


async def lines(w: BotWorld, channel_id: int, count: int, timeout: float = 15.0) -> list[str]:
    """The audit channel's lines once it has at least ``count``."""

    def enough() -> list[str] | None:
        found = [m.content or "" for m in w.discord.channel_messages(channel_id)]
        return found if len(found) >= count else None

    return await w.discord.wait_for(enough, timeout=timeout)


def audit_posts(w: BotWorld, channel_id: int) -> list[dict[str, Any]]:
    """The bodies of every post the bot sent to the audit channel, as sent."""
    path = f"/channels/{channel_id}/messages"
    return [r.json for r in w.discord.requests if r.method == "POST" and r.path == path and r.json]


def never_pings(bodies: list[dict[str, Any]]) -> None:
    assert bodies
    for body in bodies:
        allowed = body.get("allowed_mentions")
        assert allowed is not None and allowed.get("parse") == [], body
        assert not allowed.get("users") and not allowed.get("roles"), body


def link_to(message: StoredMessage) -> str:
    return f"https://discord.com/channels/{GUILD_ID}/{message.channel_id}/{message.id}"


async def test_a_full_job_is_logged_admitted_then_delivered_and_nobody_is_pinged(
    tmp_path: Path,
) -> None:
    async with audit_world(tmp_path) as w:
        audit = await set_audit(w)
        shown = await admin(w, "audit-channel", {"action": "show"})
        assert shown.content == s.ADMIN_AUDIT_SHOW.format(
            channel=f"<#{audit}>", admin=f"<@{ADMIN_ID}>"
        )
        prompt = PROMPT.format(bob=BOB_ID)
        handle = await w.video(prompt, images=[w.image(), w.image()])
        assert "accepted" in await w.private_answer(handle)
        result = await w.outcome(handle)
        await all_final(w)
        job = await w.job_of(handle)
        assert job.state is JobState.DONE

        first, admitted, delivered = await lines(w, audit, 3)
        assert first == s.AUDIT_ADMIN["audit_channel"].format(admin=f"<@{ADMIN_ID}>")
        assert admitted.startswith(f"▶️ <@{ALICE_ID}> started job `{job.id}`")
        assert s.money(job.cost) in admitted and "2 reference" in admitted
        assert r"\*\*bold\*\*" in admitted and "@everyone" in admitted, "escaped, as typed"
        assert delivered == s.AUDIT_DELIVERED.format(
            user=f"<@{ALICE_ID}>", job_id=job.id, cost=s.money(job.cost), link=link_to(result)
        )
        never_pings(audit_posts(w, audit))
        assert len(w.discord.channel_messages(audit)) == 3, "one line per event"


async def test_a_failed_task_is_logged_with_its_refund_and_a_strike(tmp_path: Path) -> None:
    script = TaskScript(duration=30, outcome="failed", fail_code="DataInspectionFailed")
    async with audit_world(tmp_path, script=script) as w:
        audit = await set_audit(w)
        handle = await w.video()
        assert "accepted" in await w.private_answer(handle)
        await w.outcome(handle)
        await all_final(w)
        job = await w.job_of(handle)
        assert job.state is JobState.FAILED
        kinds = [e.kind for e in await w.services.store.ledger(job.id)]
        assert kinds == ["reserve", "release"]

        _, admitted, ended, strike = await lines(w, audit, 4)
        assert f"`{job.id}`" in admitted
        assert ended.startswith(f"↩️ Job `{job.id}` of <@{ALICE_ID}> ended without a video")
        assert ended.endswith(f"{s.money(job.cost)} released.")
        assert strike == s.AUDIT_STRIKE.format(user=f"<@{ALICE_ID}>", count=1)
        never_pings(audit_posts(w, audit))


async def test_admin_actions_name_who_did_them_and_a_cleared_channel_logs_nothing(
    tmp_path: Path,
) -> None:
    async with audit_world(tmp_path, script=TaskScript(duration=600)) as w:
        audit = await set_audit(w)
        await admin(w, "grant", {"member": BOB_ID, "amount": "2"})
        await admin(w, "ban", {"member": BOB_ID})
        await admin(w, "limit", {"scope": "guild", "period": "day", "amount": "50"})
        await admin(w, "blocklist", {"action": "add", "phrase": "secret rule"})
        found = await lines(w, audit, 5)
        me = f"<@{ADMIN_ID}>"
        assert found[1:] == [
            s.AUDIT_ADMIN["grant"].format(admin=me, member=f"<@{BOB_ID}>", amount="$2.00"),
            s.AUDIT_ADMIN["ban"].format(admin=me, member=f"<@{BOB_ID}>"),
            s.AUDIT_ADMIN["limit"].format(
                admin=me, period=s.ADMIN_PERIODS["day"], target=s.ADMIN_SCOPES["guild"],
                amount="$50.00",
            ),
            s.AUDIT_ADMIN["blocklist_add"].format(admin=me, count=1),
        ]  # fmt: skip
        assert "secret rule" not in "\n".join(found), "the rule itself is not quoted"
        never_pings(audit_posts(w, audit))

        cleared = await admin(w, "audit-channel", {"action": "clear"})
        assert cleared.content == s.ADMIN_AUDIT_CLEARED
        await admin(w, "unban", {"member": BOB_ID})
        assert "accepted" in await w.private_answer(await w.video())
        await w.bot.audit.idle.wait()
        assert len(w.discord.channel_messages(audit)) == 5, "nothing logged once cleared"
        none = await admin(w, "audit-channel", {"action": "show"})
        assert none.content == s.ADMIN_AUDIT_NONE


async def test_a_canceled_job_is_logged_with_its_release(tmp_path: Path) -> None:
    async with audit_world(tmp_path, limits=ONE_SLOT, poll_deadline=HOLD) as w:
        audit = await set_audit(w)
        w.hh.scripts.append(TaskScript(duration=HOLD))  # the first job holds the only slot
        first = await reply(w, await w.video("first job"))
        await stored(w, job_id_in(first), JobState.RUNNING)
        second = await reply(w, await w.video("second job"))
        job_id = job_id_in(second)
        click = await w.discord.click_button(second.id, f"hh:cancel:{job_id}")
        assert (await answer(w, click)).content == s.CANCELED_OK.format(job_id=job_id)
        job = await stored(w, job_id, JobState.CANCELED)
        canceled = s.AUDIT_CANCELED.format(
            user=f"<@{ALICE_ID}>", job_id=job_id, cost=s.money(job.cost)
        )
        await w.discord.wait_for(
            lambda: canceled in [m.content for m in w.discord.channel_messages(audit)]
        )
        finish_now(w, "first job")
        await all_final(w)
        await w.bot.audit.idle.wait()
        found = [m.content or "" for m in w.discord.channel_messages(audit)]
        assert len(found) == 1 + 2 + 1 + 1, "set, two admitted, one canceled, one delivered"
        never_pings(audit_posts(w, audit))


async def test_purge_deletes_the_archived_originals_and_is_logged(tmp_path: Path) -> None:
    media = MediaSettings(archive_dir=str(tmp_path / "archive"), archive_budget_bytes=10**9)
    async with audit_world(tmp_path, media=media) as w:
        audit = await set_audit(w)
        archive = w.services.archive
        assert archive is not None
        mine = [await w.video(user=ALICE_ID) for _ in range(2)]
        bobs = await w.video(user=BOB_ID)
        for handle in (*mine, bobs):
            await w.outcome(handle)
        await all_final(w)
        alice_jobs = [(await w.job_of(h)).id for h in mine]
        bob_job = (await w.job_of(bobs)).id
        assert all([await archive.has(j) for j in (*alice_jobs, bob_job)]), "archived first"

        answer = await admin(w, "purge-user", {"member": ALICE_ID})
        assert answer.content.startswith(s.ADMIN_PURGED.format(member=f"<@{ALICE_ID}>", jobs=2))
        assert [await archive.has(j) for j in alice_jobs] == [False, False]
        assert await archive.has(bob_job), "Bob's original is his and stays"
        left = sorted(p.name for p in (tmp_path / "archive").rglob("*") if p.is_file())
        assert not any(j in name for j in alice_jobs for name in left), left

        purge_line = s.AUDIT_ADMIN["purge"].format(
            admin=f"<@{ADMIN_ID}>", member=f"<@{ALICE_ID}>", jobs=2
        )
        await w.discord.wait_for(
            lambda: purge_line in [m.content for m in w.discord.channel_messages(audit)]
        )
        assert not re.search(r"\bcharacter1\b", purge_line)
