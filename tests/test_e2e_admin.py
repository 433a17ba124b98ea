"""/hh-admin end to end through the fake Discord: every subcommand, and who may use it.

The fake enforces ``default_member_permissions`` like a Discord client (Manage Server), so a
member without it cannot even send the command; a raw interaction proves that the bot checks
again on its side. Each setting is checked by its effect on what users then get.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from discord import app_commands

from cogs.ui import strings as s
from hh_bot.access.quota import next_day
from hh_bot.errors import BadInput, NotAllowed, QuotaExceeded
from hh_bot.jobs.model import JobState
from tests.bot_world import BotWorld, bot_world, default_limits
from tests.fakes.discord_commands import ClientCheckError
from tests.fakes.discord_interactions import FakeInteraction
from tests.fakes.discord_payloads import (
    ADMIN_ID,
    ALICE_ID,
    BOB_ID,
    CAROL_ID,
    GUILD_ID,
    MANAGE_GUILD,
    OWNER_ID,
    TEXT_CHANNEL_ID,
    FakeRole,
    StoredMessage,
)
from tests.fakes.happyhorse import TaskScript
from tests.waiting import eventually

EXPECTED = (app_commands.CheckFailure, QuotaExceeded, NotAllowed, BadInput)
CONFIGURED_ROLE = 1_250_000_000_000_000_777


def world(tmp_path: Path, **overrides: Any):
    return bot_world(tmp_path, allow_errors=EXPECTED, **overrides)


async def admin(
    w: BotWorld, command: str, options: dict[str, Any] | None = None, *, user: int = ADMIN_ID
) -> StoredMessage:
    """Run ``/hh-admin <command>`` as a Discord client would; its private answer."""
    handle = await w.discord.invoke_slash(f"hh-admin {command}", options or {}, user=user)
    return await answer(w, handle)


async def raw_admin(w: BotWorld, command: str, options: dict[str, Any], user: int) -> StoredMessage:
    """The same, sent by a modified client that skips the permission check."""
    payload = w.discord.slash_payload(f"hh-admin {command}", options, user=user, enforce=False)
    return await answer(w, await w.discord.invoke_raw(payload))


async def answer(w: BotWorld, handle: FakeInteraction) -> StoredMessage:
    message = await w.discord.wait_for_original(
        handle.token, until=lambda m: bool(m.content or m.embeds) and not m.loading
    )
    assert message.ephemeral, "admin answers are private"
    return message


async def add_role(w: BotWorld, name: str, *members: int, role_id: int | None = None) -> int:
    """A new role (no permissions) on the test server, given to ``members``, announced to the
    bot as Discord would (GUILD_ROLE_CREATE)."""
    role = FakeRole(role_id or w.discord.ids.next(), name, 0, position=1)
    guild = w.discord.guild
    guild.roles.append(role)
    for member in members:
        guild.members[member].role_ids.append(role.id)
    await w.discord.gateway.dispatch(
        "GUILD_ROLE_CREATE", {"guild_id": str(GUILD_ID), "role": role.payload()}
    )
    await w.discord.wait_for(lambda: w.bot.get_guild(GUILD_ID).get_role(role.id))
    return role.id


async def video_answer(w: BotWorld, prompt: str, **kw: Any) -> str:
    return await w.private_answer(await w.video(prompt, **kw))


def accepted(text: str) -> bool:
    return "accepted" in text


def start_of_a_day(w: BotWorld) -> None:
    """Move virtual time to just after a UTC midnight, so a "day" report run a few virtual
    hours later still covers every job (started an hour before midnight, it would not)."""
    now = w.clock.now()
    w.clock.advance(next_day(now) + 60 - now)


async def all_final(w: BotWorld) -> None:
    async def probe() -> bool:
        return all(j.state.final for j in await w.services.store.jobs_in_states(list(JobState)))

    await eventually(probe, timeout=15, what="every job final")


def refusal(reason: str) -> str:
    """The start of the quota message for ``reason`` (its reset time varies)."""
    return s.QUOTA[reason].split("{")[0]


async def test_only_admins_pass_the_client_and_the_bot(tmp_path: Path) -> None:
    async with world(tmp_path) as w:
        (command,) = [c for c in w.discord.synced_commands() if c["name"] == "hh-admin"]
        assert int(command["default_member_permissions"]) == MANAGE_GUILD
        with pytest.raises(ClientCheckError):
            await w.discord.invoke_slash("hh-admin ban", {"member": BOB_ID}, user=ALICE_ID)
        refused = await raw_admin(w, "ban", {"member": BOB_ID}, user=ALICE_ID)
        assert refused.content == s.ADMIN_ONLY
        assert not await w.services.policy.is_banned(GUILD_ID, BOB_ID)
        limit = {"scope": "guild", "period": "day", "amount": "0"}
        assert (await raw_admin(w, "limit", limit, user=ALICE_ID)).content == s.ADMIN_ONLY
        assert accepted(await video_answer(w, "still unlimited"))
        # Manage Server (through a role) and the server owner are admins.
        assert (await admin(w, "usage", user=ADMIN_ID)).embeds
        assert (await admin(w, "usage", user=OWNER_ID)).embeds


async def test_admin_role_set_here_or_in_settings_is_accepted(tmp_path: Path) -> None:
    async with world(tmp_path) as w:
        mods = await add_role(w, "Video mods", CAROL_ID)
        assert (await raw_admin(w, "running", {}, user=CAROL_ID)).content == s.ADMIN_ONLY
        set_role = await admin(w, "admin-role", {"role": mods})
        assert set_role.content == s.ADMIN_ROLE_SET.format(role=f"<@&{mods}>")
        ran = await raw_admin(w, "ban", {"member": BOB_ID}, user=CAROL_ID)
        assert ran.content == s.ADMIN_BANNED.format(member=f"<@{BOB_ID}>")
        assert await w.services.policy.is_banned(GUILD_ID, BOB_ID)
        cleared = await admin(w, "admin-role")
        assert cleared.content == s.ADMIN_ROLE_SET.format(role=s.ADMIN_NO_ROLE)
        assert (await raw_admin(w, "running", {}, user=CAROL_ID)).content == s.ADMIN_ONLY

    async with world(tmp_path / "configured", admin_role_id=CONFIGURED_ROLE) as w:
        await add_role(w, "Configured", CAROL_ID, role_id=CONFIGURED_ROLE)
        ran = await raw_admin(w, "unban", {"member": BOB_ID}, user=CAROL_ID)
        assert ran.content == s.ADMIN_UNBANNED.format(member=f"<@{BOB_ID}>")


async def test_limits_for_every_member_one_member_a_role_and_the_server(tmp_path: Path) -> None:
    async with world(tmp_path) as w:
        vip = await add_role(w, "VIP", BOB_ID)
        said = await admin(w, "limit", {"scope": "user", "period": "day", "amount": "0.63"})
        assert said.content == s.ADMIN_LIMIT_SET.format(target="user", period="day", amount="$0.63")
        assert accepted(await video_answer(w, "alice 1"))
        assert (await video_answer(w, "alice 2")).startswith(refusal("user_day"))

        options = {"scope": "member", "period": "day", "amount": "1.26", "member": ALICE_ID}
        said = await admin(w, "limit", options)
        assert said.content == s.ADMIN_LIMIT_SET.format(
            target=f"member:{ALICE_ID}", period="day", amount="$1.26"
        )
        assert accepted(await video_answer(w, "alice 3"))
        assert (await video_answer(w, "alice 4")).startswith(refusal("user_day"))

        options = {"scope": "role", "period": "day", "amount": "none", "role": vip}
        said = await admin(w, "limit", options)
        assert said.content == s.ADMIN_LIMIT_SET.format(
            target=f"role:{vip}", period="day", amount="unlimited"
        )
        for n in range(3):  # Bob's role lifts the per-member limit for him
            assert accepted(await video_answer(w, f"bob {n}", user=BOB_ID))
        assert accepted(await video_answer(w, "carol 1", user=CAROL_ID))
        assert (await video_answer(w, "carol 2", user=CAROL_ID)).startswith(refusal("user_day"))

        # Spent so far: 6 jobs × $0.63 = $3.78; the server may spend $4.00 this month.
        said = await admin(w, "limit", {"scope": "guild", "period": "month", "amount": "4"})
        assert said.content == s.ADMIN_LIMIT_SET.format(
            target="guild", period="month", amount="$4.00"
        )
        text = await video_answer(w, "bob 3", user=BOB_ID)
        assert text.startswith(refusal("guild_month")), text
        quota = await answer(w, await w.discord.invoke_slash("quota", user=BOB_ID))
        assert "Used $3.78 of $4.00" in str(quota.embeds)

        missing = await admin(w, "limit", {"scope": "role", "period": "day", "amount": "1"})
        assert missing.content == s.ADMIN_NEED_ROLE
        bad = await admin(w, "limit", {"scope": "user", "period": "day", "amount": "lots"})
        assert bad.content == s.ADMIN_BAD_AMOUNT
        said = await admin(w, "limit", {"scope": "guild", "period": "month", "amount": "default"})
        assert said.content == s.ADMIN_LIMIT_SET.format(
            target="guild", period="month", amount="default"
        )
        assert accepted(await video_answer(w, "bob 4", user=BOB_ID))
        await all_final(w)


async def test_grant_adds_to_todays_allowance(tmp_path: Path) -> None:
    async with world(tmp_path) as w:
        await admin(w, "limit", {"scope": "user", "period": "day", "amount": "0.63"})
        assert accepted(await video_answer(w, "first"))
        assert (await video_answer(w, "second")).startswith(refusal("user_day"))
        said = await admin(w, "grant", {"member": ALICE_ID, "amount": "0.63"})
        assert said.content == s.ADMIN_GRANTED.format(member=f"<@{ALICE_ID}>", amount="$0.63")
        assert accepted(await video_answer(w, "granted"))
        assert (await video_answer(w, "third")).startswith(refusal("user_day"))
        assert accepted(await video_answer(w, "bob 1", user=BOB_ID))
        bob = await video_answer(w, "bob 2", user=BOB_ID)  # Alice's grant is hers alone
        assert bob.startswith(refusal("user_day"))
        zero = await admin(w, "grant", {"member": ALICE_ID, "amount": "0"})
        assert zero.content == s.ADMIN_BAD_AMOUNT
        await all_final(w)


async def test_ban_and_unban(tmp_path: Path) -> None:
    async with world(tmp_path) as w:
        said = await admin(w, "ban", {"member": BOB_ID})
        assert said.content == s.ADMIN_BANNED.format(member=f"<@{BOB_ID}>")
        assert await video_answer(w, "banned", user=BOB_ID) == s.NOT_ALLOWED["banned"]
        assert accepted(await video_answer(w, "alice is fine"))
        said = await admin(w, "unban", {"member": BOB_ID})
        assert said.content == s.ADMIN_UNBANNED.format(member=f"<@{BOB_ID}>")
        assert accepted(await video_answer(w, "welcome back", user=BOB_ID))
        prompts = [r.json["input"]["prompt"] for r in w.hh.creates()]
        assert "banned" not in prompts
        await all_final(w)


async def test_channel_restriction(tmp_path: Path) -> None:
    async with world(tmp_path) as w:
        other = w.discord.add_text_channel(GUILD_ID, "random").id
        said = await admin(w, "channel", {"channel": TEXT_CHANNEL_ID, "allowed": True})
        assert said.content == s.ADMIN_CHANNELS.format(channels=f"<#{TEXT_CHANNEL_ID}>")
        text = await video_answer(w, "elsewhere", channel_id=other)
        assert text == s.NOT_ALLOWED["channel"]
        assert accepted(await video_answer(w, "here"))
        said = await admin(w, "channel", {"channel": TEXT_CHANNEL_ID, "allowed": False})
        assert said.content == s.ADMIN_CHANNELS.format(channels=s.ADMIN_ALL_CHANNELS)
        assert accepted(await video_answer(w, "anywhere again", channel_id=other))
        await all_final(w)


async def test_server_defaults_apply_to_new_jobs(tmp_path: Path) -> None:
    async with world(tmp_path) as w:
        options = {"resolution": "1080P", "duration": 3, "ratio": "9:16", "watermark": True}
        said = await admin(w, "defaults", options)
        assert said.content == s.ADMIN_DEFAULTS.format(
            resolution="1080P", duration=3, ratio="9:16", watermark="on", prompt_extend="on"
        )
        text = await video_answer(w, "with the server's defaults")
        assert "$0.67 reserved" in text, text  # 1080P × 3 s at $0.224/s
        assert accepted(await video_answer(w, "overridden", resolution="720P", duration=5))
        await all_final(w)
        sent = {r.json["input"]["prompt"]: r.json["parameters"] for r in w.hh.creates()}
        defaults = sent["with the server's defaults"]
        assert (defaults["resolution"], defaults["duration"], defaults["watermark"]) == (
            "1080P",
            3,
            True,
        )
        assert (await w.services.store.user_jobs(ALICE_ID))[-1].params.ratio == "9:16"
        assert sent["overridden"]["resolution"] == "720P" and sent["overridden"]["duration"] == 5


async def test_running_jobs_and_usage_report_with_cost(tmp_path: Path) -> None:
    limits = replace(default_limits(), global_active_cap=1)
    async with world(tmp_path, limits=limits) as w:
        start_of_a_day(w)
        assert (await admin(w, "running")).content == s.ADMIN_NOTHING_RUNNING
        assert (await admin(w, "usage")).content == s.ADMIN_NO_USAGE
        bob = await w.video("bob short", user=BOB_ID, duration=10)
        await w.outcome(bob)
        await all_final(w)
        w.hh.scripts.append(TaskScript(duration=600))
        assert accepted(await video_answer(w, "alice long"))
        assert accepted(await video_answer(w, "alice queued"))
        jobs = {j.params.prompt: j for j in await w.services.store.user_jobs(ALICE_ID)}
        await eventually(
            lambda: w.services.runner.queue_position(jobs["alice queued"].id) == 1,
            what="the second job queued",
        )

        running = (await admin(w, "running")).embeds[0]
        assert running["title"] == s.ADMIN_RUNNING_TITLE
        lines = running["description"].splitlines()
        assert len(lines) == 2, lines  # Bob's finished job is not listed
        assert jobs["alice long"].id in lines[0] and f"<@{ALICE_ID}>" in lines[0]
        assert f"{s.STATE_LABEL[JobState.QUEUED]} (#1)" in lines[1] and "$0.63" in lines[1]

        usage = (await admin(w, "usage", {"period": "day"})).embeds[0]
        assert usage["title"] == s.ADMIN_USAGE_TITLE.format(
            period="day", total="$1.26", billed="$1.26"
        )
        assert usage["description"].splitlines() == [
            s.ADMIN_USAGE_LINE.format(
                user=f"<@{BOB_ID}>", jobs=1, spent="$1.26", billed="$1.26", reserved="$0.00"
            ),
            s.ADMIN_USAGE_LINE.format(
                user=f"<@{ALICE_ID}>", jobs=2, spent="$0.00", billed="$0.00", reserved="$1.26"
            ),
        ]
        month = (await admin(w, "usage", {"period": "month"})).embeds[0]
        assert month["title"] == s.ADMIN_USAGE_TITLE.format(
            period="month", total="$1.26", billed="$1.26"
        )


async def test_usage_shows_charged_and_possibly_billed_side_by_side(tmp_path: Path) -> None:
    """Users are charged only for delivered videos; the key may have been billed for more: a
    create answered by a JSON 500 after the task was made, a video whose download failed. A
    task the API reports failed is billed by no one."""
    async with world(tmp_path) as w:
        start_of_a_day(w)
        await w.outcome(await w.video("delivered", user=BOB_ID, duration=10))  # $1.26
        w.hh.create_faults.append("500_after")
        await w.outcome(await w.video("lost create", user=ALICE_ID, duration=5))  # $0.63
        await all_final(w)
        w.hh.download_faults.append("404")
        await w.outcome(await w.video("lost download", user=ALICE_ID, duration=10))  # $1.26
        await all_final(w)
        w.hh.scripts.append(TaskScript(duration=30, outcome="failed"))
        await w.outcome(await w.video("task failed", user=ALICE_ID, duration=15))  # $0
        await all_final(w)
        assert len(w.hh.creates()) == 4  # the 500 after the task was made: one create

        usage = (await admin(w, "usage", {"period": "day"})).embeds[0]
        assert usage["title"] == s.ADMIN_USAGE_TITLE.format(
            period="day", total="$1.26", billed="$3.15"
        )
        assert usage["description"].splitlines() == [
            s.ADMIN_USAGE_LINE.format(
                user=f"<@{BOB_ID}>", jobs=1, spent="$1.26", billed="$1.26", reserved="$0.00"
            ),
            s.ADMIN_USAGE_LINE.format(
                user=f"<@{ALICE_ID}>", jobs=3, spent="$0.00", billed="$1.89", reserved="$0.00"
            ),
        ]
        assert usage["footer"]["text"] == s.ADMIN_USAGE_NOTE


async def test_running_fits_in_one_message_however_many_jobs_wait(tmp_path: Path) -> None:
    limits = replace(default_limits(), global_active_cap=1)
    async with world(tmp_path, limits=limits) as w:
        w.hh.default_script = TaskScript(duration=3000)
        for n in range(15):
            for user in (ALICE_ID, BOB_ID):
                assert accepted(await video_answer(w, f"job {n}", user=user))
        listing = (await admin(w, "running")).embeds[0]
        lines = listing["description"].splitlines()
        assert len(listing["description"]) <= 4096
        assert lines[-1] == s.ADMIN_RUNNING_MORE.format(count=30 - (len(lines) - 1))


async def test_blocked_words_are_refused_before_anything_is_spent(tmp_path: Path) -> None:
    """Latin whole words (any case, width or spacing) and Chinese substrings; the refusal is
    private, does not quote the rule, and costs nothing: no create, no job, no ledger row."""
    async with world(tmp_path) as w:
        said = await admin(w, "blocklist", {"action": "add", "phrase": "forbidden fruit"})
        assert said.content == s.ADMIN_BLOCKLIST_ADDED.format(phrase="`forbidden fruit`", count=1)
        await admin(w, "blocklist", {"action": "add", "phrase": "禁止词"})
        for prompt in (
            "character1 eats a FORBIDDEN   Fruit",
            "ｆｏｒｂｉｄｄｅｎ fruit tree",
            "这是禁止词吗",
        ):
            text = await video_answer(w, prompt)
            assert text == s.NOT_ALLOWED["blocked"], prompt
            assert "forbidden" not in text.lower() and "禁止词" not in text
        assert w.creates() == 0
        assert await w.services.store.jobs_in_states(list(JobState)) == []
        assert await w.services.store.ledger() == []
        assert accepted(await video_answer(w, "character1 bakes forbidden fruitcake"))
        said = await admin(w, "blocklist", {"action": "list"})
        assert said.content == s.ADMIN_BLOCKLIST_LIST.format(
            count=2, entries="`forbidden fruit`, `禁止词`"
        )
        said = await admin(w, "blocklist", {"action": "remove", "phrase": "Forbidden Fruit"})
        assert said.content == s.ADMIN_BLOCKLIST_REMOVED.format(phrase="`Forbidden Fruit`", count=1)
        assert accepted(await video_answer(w, "character1 eats a forbidden fruit"))
        await all_final(w)


@pytest.mark.parametrize(
    ("options", "expected"),
    [
        ({"action": "add", "phrase": "***"}, s.BAD_INPUT["blocklist_only_wildcards"]),
        ({"action": "add", "phrase": "x" * 101}, s.BAD_INPUT["blocklist_too_long"]),
        ({"action": "add", "phrase": "a*b*c*d*e*f"}, s.BAD_INPUT["blocklist_too_many_wildcards"]),
        ({"action": "add", "phrase": "   "}, s.BAD_INPUT["blocklist_whitespace_only"]),
        ({"action": "add"}, s.ADMIN_BLOCKLIST_NEED_PHRASE),
        ({"action": "remove", "phrase": "never added"}, s.BAD_INPUT["blocklist_not_found"]),
        ({"action": "list"}, s.ADMIN_BLOCKLIST_EMPTY),
    ],
)
async def test_bad_blocklist_entries_get_a_clear_answer(
    tmp_path: Path, options: dict[str, Any], expected: str
) -> None:
    async with world(tmp_path) as w:
        said = await admin(w, "blocklist", options)
        assert said.content == expected.format(limit=100 if "long" in expected else 4)
        assert (
            await w.services.policy.blocklist(GUILD_ID)
            == type(await w.services.policy.blocklist(GUILD_ID))()
        )
