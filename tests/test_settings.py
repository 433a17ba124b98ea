"""/settings and server rules in the core: the precedence (options > the member's settings >
server defaults > .env), the rules' caps, the checks of each value, and the store on both
backends (SQLite and PostgreSQL)."""

from __future__ import annotations

from dataclasses import replace

import pytest

from hh_bot.access.policy import Policy
from hh_bot.access.settings import (
    MAX_SUFFIX,
    Preferences,
    ServerRules,
    UserSettings,
    check_setting,
)
from hh_bot.config import Defaults, Limits
from hh_bot.errors import BadInput
from hh_bot.jobs.model import ReplyTarget
from hh_bot.jobs.request_checks import resolve_params
from hh_bot.store.interface import Store

GUILD = 42
ALICE = 7
T = 1_700_000_000.0


def prefs_on(store: Store, env: Defaults | None = None) -> Preferences:
    return Preferences(store, Policy(store, Limits(), env or Defaults()))


async def test_user_settings_are_stored_and_forgotten_on_both_backends(store: Store) -> None:
    assert await store.user_settings(ALICE) is None
    await store.set_user_settings(ALICE, {"resolution": "1080P"}, T)
    await store.set_user_settings(ALICE, {"resolution": "720P", "suffix": "雨夜"}, T + 1)
    assert await store.user_settings(ALICE) == {"resolution": "720P", "suffix": "雨夜"}
    assert await store.user_settings(ALICE + 1) is None
    await store.set_user_settings(ALICE, None, T + 2)
    assert await store.user_settings(ALICE) is None


async def test_precedence_options_over_mine_over_server_over_env(store: Store) -> None:
    env = Defaults(resolution="720P", duration=5, ratio="16:9", watermark=False)
    prefs = prefs_on(store, env)
    policy = Policy(store, Limits(), env)
    await policy.set_default(GUILD, "duration", 8)
    await policy.set_default(GUILD, "ratio", "1:1")
    await prefs.update(ALICE, {"duration": 10, "watermark": True, "suffix": "film grain"}, T)

    chosen = await prefs.choose(GUILD, ALICE, "a horse", {"duration": 3})
    p = chosen.params
    assert (p.resolution, p.duration, p.ratio, p.watermark) == ("720P", 3, "1:1", True)
    assert chosen.prompt == "a horse film grain"
    assert chosen.capped == () and not chosen.dm_first
    # Without the option the member's own duration wins over the server's.
    assert (await prefs.choose(GUILD, ALICE, "a horse", {})).params.duration == 10
    # Another member gets the server's defaults.
    other = await prefs.choose(GUILD, ALICE + 1, "a horse", {})
    assert (other.params.duration, other.params.watermark, other.prompt) == (8, False, "a horse")


async def test_rules_cap_everything_and_say_what(store: Store) -> None:
    prefs = prefs_on(store)
    await prefs.set_rules(GUILD, ServerRules(resolutions=("720P",), max_duration=6))
    await prefs.update(ALICE, {"resolution": "1080P", "duration": 12, "delivery": "dm"}, T)
    chosen = await prefs.choose(GUILD, ALICE, "x", {})
    assert (chosen.params.resolution, chosen.params.duration) == ("720P", 6)
    assert chosen.capped == ("resolution", "duration") and chosen.dm_first
    assert (await prefs.choose(GUILD, ALICE, "x", {"duration": 15})).params.duration == 6
    assert (await prefs.choose(GUILD, ALICE, "x", {"duration": 4})).capped == ("resolution",)
    # Another server has no rules; the modal's prefill is capped as well.
    assert (await prefs.choose(GUILD + 1, ALICE, "x", {})).capped == ()
    prefill = await prefs.defaults(GUILD, ALICE)
    assert (prefill.resolution, prefill.duration) == ("720P", 6)
    await prefs.set_rules(GUILD, ServerRules())  # lifting every rule forgets them
    assert await store.get_setting("guild:42", "rules") is None


def test_a_resolution_capped_goes_down_else_to_the_lowest_allowed() -> None:
    params = resolve_params(Defaults(), resolution="720P")
    capped, what = ServerRules(resolutions=("1080P",)).cap(params)
    assert (capped.resolution, what) == ("1080P", ("resolution",))


async def test_a_bad_value_changes_nothing(store: Store) -> None:
    prefs = prefs_on(store)
    await prefs.update(ALICE, {"ratio": "9:16"}, T)
    with pytest.raises(BadInput) as bad:
        await prefs.update(ALICE, {"duration": 9, "delivery": "pigeon"}, T, forget=())
    assert bad.value.reason == "settings_bad_delivery"
    assert await prefs.user(ALICE) == UserSettings(ratio="9:16")
    await prefs.update(ALICE, {"duration": 9}, T, forget=("ratio",))
    assert await prefs.user(ALICE) == UserSettings(duration=9)


@pytest.mark.parametrize(
    ("name", "value", "reason"),
    [
        ("resolution", "4K", "bad_resolution"),
        ("duration", 16, "bad_duration"),
        ("duration", "5", "bad_duration"),
        ("ratio", "21:9", "bad_ratio"),
        ("watermark", "yes", "settings_bad_flag"),
        ("delivery", "email", "settings_bad_delivery"),
        ("suffix", "\x00\u200b ", "settings_bad_suffix"),
        ("suffix", "a" * (MAX_SUFFIX + 1), "settings_bad_suffix"),
        ("seed", 5, "settings_unknown"),
    ],
)
def test_each_value_is_checked(name: str, value: object, reason: str) -> None:
    with pytest.raises(BadInput) as bad:
        check_setting(name, value)
    assert bad.value.reason == reason


def test_a_stored_value_no_longer_valid_is_dropped_not_trusted() -> None:
    stored = {"resolution": "8K", "duration": 6, "future_key": 1, "suffix": "  ok  "}
    assert UserSettings.from_json(stored) == UserSettings(duration=6, suffix="ok")
    assert ServerRules.from_json({"resolutions": ["4K"], "max_duration": 99}) == ServerRules()


async def test_a_suffix_that_makes_the_prompt_too_long_is_refused(store: Store) -> None:
    prefs = prefs_on(store)
    await prefs.update(ALICE, {"suffix": "b" * 100}, T)
    with pytest.raises(BadInput) as bad:
        await prefs.choose(GUILD, ALICE, "a" * 4950, {})
    assert bad.value.reason == "long_prompt"


def test_the_dm_preference_travels_with_the_job_across_a_restart() -> None:
    reply = ReplyTarget(channel_id=1, application_id=2, interaction_token="t", token_expires_at=3.0)
    assert ReplyTarget.from_json(reply.to_json()) == reply and not reply.dm_first
    dm = replace(reply, dm_first=True)
    assert ReplyTarget.from_json(dm.to_json()).dm_first
    older = {k: v for k, v in reply.to_json().items() if k != "dm_first"}  # rows from before
    assert ReplyTarget.from_json(older) == reply
