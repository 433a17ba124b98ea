"""The message catalogue: well-formed templates, every key used in code exists, every key in the
catalogue is used, and reasons render as one sentence in a locale (English the fallback)."""

from __future__ import annotations

import ast
import re
import string
from collections.abc import Iterator
from pathlib import Path

import pytest

from hh_bot.i18n import Reason, catalog, keys, placeholders, render, template, text
from hh_bot.i18n.en import MESSAGES
from hh_bot.i18n.zh_cn import MESSAGES as ZH_CN

ROOT = Path(__file__).resolve().parent.parent
CATALOGUE_FILES = {ROOT / "hh_bot" / "i18n" / "en.py", ROOT / "hh_bot" / "i18n" / "zh_cn.py"}
# Calls whose first argument is a catalogue key: the core's Reason, the lookups, and the
# aliases the Discord layer and the core give them.
KEY_CALLS = frozenset({"Reason", "text", "template", "text_of", "_t"})
KEY_SHAPE = re.compile(r"^[a-z]+(?:\.[a-z0-9_]+)+$")
PREFIXES = frozenset(
    {
        "video",
        "progress",
        "state",
        "result",
        "button",
        "input",
        "access",
        "quota",
        "jobs",
        "error",
        "admin",
        "chart",
        "reference",
        "download",
        "audit",
        "settings",
        "show",
        "format",
        "command",
    }
)


def _sources() -> Iterator[Path]:
    yield ROOT / "bot.py"
    for package in ("cogs", "hh_bot"):
        for path in sorted((ROOT / package).rglob("*.py")):
            if path not in CATALOGUE_FILES:
                yield path


def _call_name(node: ast.Call) -> str | None:
    if isinstance(node.func, ast.Name):
        return node.func.id
    if isinstance(node.func, ast.Attribute):
        return node.func.attr
    return None


def _key_calls() -> Iterator[tuple[str, ast.Call, str]]:
    """(key, call, where) for every call in cogs/, hh_bot/ and bot.py that names a key."""
    for path in _sources():
        if not path.exists():
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call) or _call_name(node) not in KEY_CALLS:
                continue
            first = node.args[0] if node.args else None
            if first is None:
                first = next((k.value for k in node.keywords if k.arg in ("code", "key")), None)
            if isinstance(first, ast.Constant) and isinstance(first.value, str):
                where = f"{path.relative_to(ROOT)}:{node.lineno}"
                yield first.value, node, where


def test_keys_are_dotted_and_grouped_by_a_known_prefix() -> None:
    for key in MESSAGES:
        assert KEY_SHAPE.match(key), key
        assert key.split(".", 1)[0] in PREFIXES, key


@pytest.mark.parametrize("key", sorted(MESSAGES))
def test_placeholders_are_well_formed(key: str) -> None:
    """Named placeholders only: no ``{}``/``{0}``, no attribute or index access, no
    conversions or nested fields, no stray braces; the template formats with dummies."""
    message = MESSAGES[key]
    assert message and message == message.strip(), key
    parsed = list(string.Formatter().parse(message))  # ValueError on a stray brace
    for _, name, spec, conversion in parsed:
        if name is None:
            continue
        assert name.isidentifier(), (key, name)
        assert name != "locale", f"{key}: 'locale' is text()'s own argument"
        assert conversion is None, (key, name)
        assert "{" not in (spec or ""), (key, name)
    filled = template(key).format_map({name: 1 for name in placeholders(key)})
    assert "{" not in filled and "}" not in filled, key


def test_every_key_used_in_code_exists_with_its_placeholders() -> None:
    used = list(_key_calls())
    assert len(used) > 100, "the scan found too few keys: did the call names change?"
    for key, call, where in used:
        if not KEY_SHAPE.match(key):
            continue  # not a catalogue lookup (e.g. a text() of something else)
        assert key in MESSAGES, f"{where}: unknown catalogue key {key!r}"
        if _call_name(call) != "Reason":
            continue
        # Reason(code, {literal params}, cause): the params and the cause fill the template
        params = call.args[1] if len(call.args) > 1 else None
        params = params or next((k.value for k in call.keywords if k.arg == "params"), None)
        has_cause = len(call.args) > 2 or any(k.arg == "cause" for k in call.keywords)
        if params is None or isinstance(params, ast.Dict):
            names = set()
            if isinstance(params, ast.Dict):
                names = {k.value for k in params.keys if isinstance(k, ast.Constant)}
            if has_cause:
                names.add("reason")
            assert names == set(placeholders(key)), f"{where}: {key} takes {placeholders(key)}"


def test_every_catalogue_key_is_used_somewhere() -> None:
    used = {key for key, _, _ in _key_calls()}
    unused = sorted(set(MESSAGES) - used)
    assert unused == [], f"catalogue keys no code uses: {unused}"


def test_render_wraps_the_cause_and_falls_back_to_english() -> None:
    reason = Reason(
        "reference.via_redirect",
        {"target": "10.0.0.1/x.png"},
        Reason("reference.host.address", cause=Reason("reference.address.private")),
    )
    english = "redirects to 10.0.0.1/x.png: the address points to a private network"
    assert render(reason) == english
    assert reason.codes() == (
        "reference.via_redirect",
        "reference.host.address",
        "reference.address.private",
    )
    assert render(reason, "xx-unknown") == english  # an unknown locale falls back to English
    assert reason == Reason(
        "reference.via_redirect",
        {"target": "10.0.0.1/x.png"},
        Reason("reference.host.address", cause=Reason("reference.address.private")),
    )
    assert hash(reason) == hash(Reason(reason.code, dict(reason.params), reason.cause))


def test_a_registered_locale_is_used_and_may_only_mirror_english_keys(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(catalog, "_CATALOGUES", dict(catalog._CATALOGUES))
    catalog.register("xx", {"reference.host.address": "ADDRESS<{reason}>"})
    inner = Reason("reference.address.loopback")
    shown = render(Reason("reference.host.address", cause=inner), "xx")
    assert shown == "ADDRESS<points to the bot's own machine (loopback)>"  # key missing: English
    assert template("button.delete", "xx") == "Delete"
    assert "xx" in catalog.locales()
    with pytest.raises(ValueError, match="not in the English catalogue"):
        catalog.register("yy", {"no.such_key": "…"})
    with pytest.raises(KeyError):
        template("no.such_key")


def test_keys_is_the_english_catalogue() -> None:
    assert keys() == frozenset(MESSAGES)
    assert text("progress.more_references", count=3) == "+3 more"
    assert placeholders("result.failed_for") == {"user_id", "job_id", "reason"}


def test_the_catalogue_package_does_not_import_discord() -> None:
    for path in (ROOT / "hh_bot" / "i18n").glob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                assert not any(a.name.split(".")[0] == "discord" for a in node.names), path
            if isinstance(node, ast.ImportFrom):
                assert (node.module or "").split(".")[0] != "discord", path


# -- two languages: the zh-CN catalogue mirrors the English one exactly -------------------------

CJK = re.compile(r"[\u4e00-\u9fff]")
# Keys whose Chinese may be written exactly as the English (units, formats, markup only)
SAME_IN_CHINESE = frozenset(
    {
        "format.size_mb",
        "jobs.line",
        "jobs.line_origin",
        "admin.running_line",
        "reference.host.name",
        "show.choice",
        "jobs.origin.command",
        "settings.line",
    }
)


def _fields(message: str) -> list[tuple[str, str | None, str | None]]:
    """Each placeholder with its format spec and conversion (``{seconds:g}`` keeps ``:g``)."""
    return sorted(
        (name, spec, conv) for _, name, spec, conv in string.Formatter().parse(message) if name
    )


def test_zh_cn_has_exactly_the_english_keys() -> None:
    """Strict both ways: a key added in English without its translation fails, and so does a
    translation of a key English no longer has (``register`` refuses those too)."""
    assert sorted(set(MESSAGES) - set(ZH_CN)) == [], "keys with no zh-CN translation"
    assert sorted(set(ZH_CN) - set(MESSAGES)) == [], "zh-CN keys English does not have"
    assert "zh-CN" in catalog.locales()


@pytest.mark.parametrize("key", sorted(MESSAGES))
def test_zh_cn_keeps_every_placeholder_of_english(key: str) -> None:
    """Same names, same format specs, each as often as in English; and a real translation:
    Chinese characters in every message except the few that are only notation."""
    english, chinese = MESSAGES[key], ZH_CN[key]
    assert chinese and chinese == chinese.strip(), key
    assert _fields(chinese) == _fields(english), key
    assert placeholders(key, "zh-CN") == placeholders(key), key
    filled = template(key, "zh-CN").format_map({name: 1 for name in placeholders(key)})
    assert "{" not in filled and "}" not in filled, key
    if key not in SAME_IN_CHINESE and not key.startswith("command.image"):
        assert CJK.search(chinese), f"{key}: not translated: {chinese!r}"


def test_zh_cn_keeps_discord_markup_and_mentions() -> None:
    for key, english in MESSAGES.items():
        for token in ("<@{user_id}>", "**", "`{job_id}`", "/video", "/hh-admin"):
            assert english.count(token) == ZH_CN[key].count(token), (key, token)


def test_zh_cn_command_names_follow_discords_rules() -> None:
    """Localised slash names: lowercase, letters/digits/-/_ of any script, 1–32 characters,
    and no two the same (an option's name must be unique within its command)."""
    pattern = re.compile(r"^[-_\w]{1,32}$")
    names = {k: v for k, v in ZH_CN.items() if k.startswith("command.")}
    for key, name in names.items():
        assert pattern.match(name) and name == name.lower(), (key, name)
    assert len(set(names.values())) == len(names), "two commands or options share a name"


def test_rendering_follows_the_current_locale() -> None:
    from hh_bot.i18n import using_locale
    from hh_bot.i18n.lazy import LazyText

    delete = LazyText("button.delete")
    title = LazyText("progress.title")
    assert delete == "Delete" and str(delete) == "Delete"
    with using_locale("zh-CN") as chosen:
        assert chosen == "zh-CN"
        assert str(delete) == "删除" and f"[{delete}]" == "[删除]"
        assert title.format(job_id="ab12") == "视频任务 ab12"
        assert delete + "!" == "删除!" and "!" + delete == "!删除"
        assert "{x}".format_map({"x": delete}) == "删除"
        assert LazyText("quota.title") % () == "你的视频额度"
        assert render(Reason("reference.too_small", {"w": 1, "h": 2, "min_side": 400}), "zh-CN")
    with using_locale("zh-TW"):  # Traditional Chinese readers get English, not Simplified
        assert str(delete) == "Delete"
    with using_locale("en-GB"):
        assert str(delete) == "Delete"
    assert delete == "Delete" and {delete: 1}["Delete"] == 1  # the value stays English


def test_render_lazy_renders_a_payload_and_leaves_plain_ones_alone() -> None:
    from hh_bot.i18n import using_locale
    from hh_bot.i18n.lazy import LazyText, render_lazy

    payload = {"title": LazyText("video.modal_title"), "components": [{"label": "x"}], "n": 1}
    with using_locale("zh-CN"):
        done = render_lazy(payload)
    assert done["title"] == "用这条消息生成视频" and type(done["title"]) is str
    assert done["components"] is payload["components"]
    plain = {"a": ["b", {"c": 1}]}
    assert render_lazy(plain) is plain
