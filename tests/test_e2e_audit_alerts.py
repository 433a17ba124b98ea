"""Budget alerts and a broken audit channel, end to end over the fake Discord.

Alerts: a server's daily limit of ten jobs; the 8th admission crosses 80 %, the 10th 100 %
(new requests refused until the reset), each announced exactly once in the audit channel and
in the admin's DM, also across a restart of the bot on the same database. A broken channel
(403 Missing Permissions): the admin who set it gets one DM, jobs are unaffected, and a post
that works again resets that.
"""

from __future__ import annotations

from pathlib import Path

from bot import sync_commands
from cogs.ui import strings as s
from hh_bot.access.quota import cost_of, next_day
from hh_bot.jobs.model import JobState
from tests.bot_world import BotWorld
from tests.fakes.discord_payloads import ADMIN_ID, ALICE_ID, GUILD_ID
from tests.test_e2e_admin import admin, all_final, refusal, start_of_a_day
from tests.test_e2e_audit import audit_posts, audit_world, lines, never_pings, set_audit


def dollars(milli: int) -> str:
    return f"{milli / 1000:.2f}"


async def settled(w: BotWorld) -> None:
    """Every job final and every audit line handled."""
    await all_final(w)
    await w.bot.audit.idle.wait()


def alerts_in(w: BotWorld, channel_id: int) -> list[str]:
    return [
        m.content or ""
        for m in w.discord.channel_messages(channel_id)
        if (m.content or "").startswith(("💰", "🛑"))
    ]


def dms(w: BotWorld) -> list[str]:
    return [m.content or "" for m in w.discord.dm_messages(ADMIN_ID)]


async def admit(w: BotWorld, count: int) -> None:
    for _ in range(count):
        assert "accepted" in await w.private_answer(await w.video(user=ALICE_ID))


async def test_alerts_at_80_and_100_percent_exactly_once_also_across_a_restart(
    tmp_path: Path,
) -> None:
    async with audit_world(tmp_path) as w:
        start_of_a_day(w)
        audit = await set_audit(w, dm_alerts=True)
        cost = cost_of(w.services.settings, "720P", 5)
        limit = 10 * cost
        await admin(w, "limit", {"scope": "guild", "period": "day", "amount": dollars(limit)})
        await admit(w, 7)
        await settled(w)
        assert alerts_in(w, audit) == [] and dms(w) == []
        await admit(w, 1)  # 8 of 10: 80 %
        await settled(w)
        eighty = s.AUDIT_ALERT.format(
            spent=s.money(8 * cost), period=s.ADMIN_PERIODS["day"], limit=s.money(limit),
            percent=80,
        )  # fmt: skip
        assert alerts_in(w, audit) == [eighty]
        assert dms(w) == [eighty]
        never_pings(audit_posts(w, audit))
        stopped_at = w.clock.now()

    async with audit_world(tmp_path) as w:  # the same database, a new process
        w.clock.advance(stopped_at - w.clock.now())
        w.discord.add_text_channel(GUILD_ID, "audit", channel_id=audit)
        await sync_commands(w.bot, force=True)  # this fake Discord is new; the database is not
        await admit(w, 1)  # 9 of 10: 80 % was announced before the restart
        await settled(w)
        assert alerts_in(w, audit) == [] and dms(w) == []
        await admit(w, 1)  # 10 of 10: 100 %
        await settled(w)
        full = s.AUDIT_ALERT_FULL.format(
            spent=s.money(limit), period=s.ADMIN_PERIODS["day"], limit=s.money(limit),
            resets=s.relative(next_day(w.clock.now())),
        )  # fmt: skip
        assert alerts_in(w, audit) == [full]
        assert dms(w) == [full]
        refused = await w.private_answer(await w.video(user=ALICE_ID))
        assert refused.startswith(refusal("guild_day")), refused
        await settled(w)
        assert alerts_in(w, audit) == [full] and dms(w) == [full], "exactly once"
        never_pings(audit_posts(w, audit))


async def test_an_audit_channel_the_bot_cannot_post_in_is_reported_to_the_admin_once(
    tmp_path: Path,
) -> None:
    async with audit_world(tmp_path) as w:
        locked = w.discord.add_text_channel(GUILD_ID, "locked")
        w.discord.deny_channel_send(locked.id)
        answer = await admin(w, "audit-channel", {"action": "set", "channel": locked.id})
        assert answer.content.startswith(s.ADMIN_AUDIT_SET.split("{")[0])
        told = s.AUDIT_CANNOT_POST.format(
            channel=f"<#{locked.id}>", server=w.discord.guild.name, why=s.AUDIT_WHY[50013]
        )
        assert await w.discord.wait_for(lambda: dms(w)) == [told]

        handles = [await w.video() for _ in range(2)]
        for handle in handles:
            assert f"<@{ALICE_ID}>" in (await w.outcome(handle)).content
        await settled(w)
        for handle in handles:
            job = await w.job_of(handle)
            assert job.state is JobState.DONE
            assert [e.kind for e in await w.services.store.ledger(job.id)] == ["reserve", "commit"]
        assert dms(w) == [told], "told once, however many lines failed"
        assert len(audit_posts(w, locked.id)) >= 5, "each line was tried"

        w.discord.denied_channels.discard(locked.id)  # the admin fixed the permissions
        await w.outcome(await w.video())
        await settled(w)
        assert len(await lines(w, locked.id, 2)) == 2, "admitted and delivered"
        setting = await w.services.audit.get(GUILD_ID) if w.services.audit else None
        assert setting is not None and not setting.told

        w.discord.deny_channel_send(locked.id)  # broken again: worth telling again, once
        await w.outcome(await w.video())
        await settled(w)
        assert dms(w) == [told, told]
        never_pings(audit_posts(w, locked.id))
