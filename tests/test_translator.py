"""Command localisation: the bot syncs zh-CN names, descriptions and choice names for every
command, option and choice (the fake Discord validates them as Discord does), English names stay
the product spec's, and a zh-CN reader invokes the command by its English name as Discord sends
it. Also the fake's rules for localisations, which the real sync must pass."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import discord
import pytest
from discord import Locale, app_commands
from discord.app_commands import TranslationContext, TranslationContextLocation as Where
from discord.ext import commands

from bot import command_digest
from cogs.ui import strings as s
from cogs.ui.translator import CatalogueTranslator
from hh_bot.i18n import catalog
from tests.bot_world import bot_world
from tests.fakes.discord_limits import validate_commands
from tests.fakes.discord_payloads import ALICE_ID

ZH = "zh-CN"
SPEC_NAMES = {"video", "quota", "jobs", "hh-admin", "Make video"}
UNDESCRIBED = "…"  # discord.py's description of an option nobody described
HOW = "add command.<name> to strings.COMMAND_NAMES and to both catalogues"


def zh_name(item: dict[str, Any], path: str) -> str:
    name = (item.get("name_localizations") or {}).get(ZH)
    assert name, f"{path}: no zh-CN name ({HOW})"
    return str(name)


def _options(command: dict[str, Any], path: str) -> Iterator[tuple[str, dict[str, Any]]]:
    for option in command.get("options") or []:
        here = f"{path} {option['name']}"
        yield here, option
        yield from _options(option, here)


async def test_every_command_option_and_choice_is_synced_with_zh_cn(tmp_path: Path) -> None:
    async with bot_world(tmp_path) as w:
        synced = w.discord.synced_commands()
    assert {c["name"] for c in synced} >= SPEC_NAMES, "the English names must stay the spec's"
    seen_options = seen_choices = 0
    for command in synced:
        name = command["name"]
        localised = zh_name(command, name)
        if command.get("type", 1) == 1:
            assert localised != name and localised == localised.lower(), (name, localised)
            assert command["description_localizations"][ZH], name
        else:
            assert localised == "生成视频"
        for path, option in _options(command, name):
            seen_options += 1
            zh_name(option, path)
            if option["description"] != UNDESCRIBED:
                zh = option.get("description_localizations", {}).get(ZH)
                assert zh and zh != option["description"], (path, option["description"])
            for choice in option.get("choices") or []:
                seen_choices += 1
                assert choice["name_localizations"][ZH], (path, choice)
        siblings = [zh_name(o, name) for o in command.get("options") or []]
        assert len(set(siblings)) == len(siblings), f"{name}: two options share a zh-CN name"
    assert seen_options > 40 and seen_choices > 10
    video = next(c for c in synced if c["name"] == "video")
    assert video["name_localizations"] == {ZH: "视频"}
    assert (
        video["description"] == s.VIDEO_DESC and "参考图" in video["description_localizations"][ZH]
    )
    admin = next(c for c in synced if c["name"] == "hh-admin")
    limit = next(o for o in admin["options"] if o["name"] == "limit")
    scope = next(o for o in limit["options"] if o["name"] == "scope")
    assert scope["name_localizations"] == {ZH: "对象"}
    assert {c["value"]: c["name_localizations"][ZH] for c in scope["choices"]}[
        "guild"
    ] == "整个服务器"


async def test_a_zh_cn_reader_runs_the_command_discord_sends_by_its_english_name(
    tmp_path: Path,
) -> None:
    async with bot_world(tmp_path) as w:
        w.discord.user(ALICE_ID).locale = ZH
        card = await w.discord.invoke_slash("jobs", {})
        message = await w.discord.wait_for_original(
            card.token, until=lambda m: bool(m.content or m.embeds) and not m.loading, timeout=10
        )
        assert message.content == "你还没有视频任务。用 /video 开始第一个吧。"


@pytest.mark.parametrize(
    ("where", "message", "expected"),
    [
        (Where.command_name, "video", "视频"),
        (Where.parameter_name, "prompt_extend", "提示词扩写"),
        (Where.command_description, s.VIDEO_DESC, s.VIDEO_DESC.in_locale(ZH)),
        (Where.choice_name, s.ADMIN_PERIODS["day"], "天"),
        (Where.choice_name, "16:9", "16:9"),  # the same in every language
        (Where.command_name, s.MAKE_VIDEO_MENU, "生成视频"),  # a context menu
        (Where.command_name, "not-a-known-command", None),  # Discord shows the English
        (Where.parameter_description, "…", None),
    ],
)
async def test_the_translator_reads_the_catalogues(
    where: Where, message: str, expected: str | None
) -> None:
    translator = CatalogueTranslator()
    context = TranslationContext(location=where, data=None)
    got = await translator.translate(app_commands.locale_str(message), Locale.chinese, context)
    assert got == expected
    for other in (Locale.american_english, Locale.taiwan_chinese, Locale.japanese):
        assert await translator.translate(app_commands.locale_str(message), other, context) is None


def _command(**changes: Any) -> list[dict[str, Any]]:
    option = {"type": 3, "name": "prompt", "description": "What happens"}
    option.update(changes.pop("option", {}))
    command = {"type": 1, "name": "video", "description": "Make a video", "options": [option]}
    command.update(changes)
    return [command]


@pytest.mark.parametrize(
    "commands",
    [
        _command(name_localizations={ZH: "视 频"}),  # no spaces in a slash command's name
        _command(name_localizations={ZH: "Video"}),  # lowercase only
        _command(name_localizations={ZH: "视" * 33}),
        _command(name_localizations={"zh": "视频"}),  # not a Discord locale
        _command(description_localizations={ZH: "长" * 101}),
        _command(description_localizations={ZH: ""}),
        _command(option={"name_localizations": {ZH: "提示 词"}}),
        _command(option={"description_localizations": {ZH: "x" * 101}}),
        _command(
            option={
                "choices": [{"name": "a", "value": "a", "name_localizations": {ZH: "长" * 101}}]
            }
        ),
    ],
)
def test_the_fake_refuses_localisations_discord_refuses(commands: list[dict[str, Any]]) -> None:
    assert validate_commands(commands), "Discord answers 400 to this"


def test_the_fake_takes_valid_localisations() -> None:
    menu = {
        "type": 3,
        "name": "Make video",
        "description": "",
        "name_localizations": {ZH: "生成 视频"},
    }
    ok = _command(
        name_localizations={ZH: "视频"},
        description_localizations={ZH: "生成视频"},
        option={"name_localizations": {ZH: "hh-提示词_1"}},
    )
    assert validate_commands([*ok, menu]) == {}


async def test_a_changed_translation_changes_the_sync_digest(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Commands are synced only when their payload changed: a new zh-CN wording must count."""
    bot = commands.Bot(command_prefix="!", intents=discord.Intents.none())

    @bot.tree.command(name="video", description=s.VIDEO_DESC)
    async def video(interaction: discord.Interaction[Any]) -> None: ...

    plain = await command_digest(bot, None)  # type: ignore[arg-type]
    await bot.tree.set_translator(CatalogueTranslator())
    translated = await command_digest(bot, None)  # type: ignore[arg-type]
    assert translated != plain and translated == await command_digest(bot, None)  # type: ignore[arg-type]
    changed = dict(catalog._CATALOGUES[ZH], **{"video.desc": "另一种说法"})
    monkeypatch.setitem(catalog._CATALOGUES, ZH, changed)
    assert await command_digest(bot, None) != translated  # type: ignore[arg-type]
    await bot.close()
