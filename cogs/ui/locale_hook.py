"""Where the reader's language is set: once per interaction, before any callback runs.

discord.py turns every ``INTERACTION_CREATE`` into tasks (the command tree's invoker for slash
commands, context menus and autocomplete; the view store's for buttons, ``DynamicItem`` s and
modals). A task copies the context it was created in, so the locale set around that one parse
call is the locale of everything the interaction does, including tasks it starts in turn; the
parse returns at once, and the gateway's own task is left in English.

Strings reach Discord as JSON; a :class:`~hh_bot.i18n.lazy.LazyText` handed over as it is (a
class-level ``Modal(title=...)``, a ``Button(label=...)``, a choice name) would be encoded as
its English value, since JSON encoders read a ``str`` subclass's value without ``str()``.
:func:`install_wire_rendering` renders every payload's lazy text in the current locale just
before encoding, so a surface added tomorrow is localised without knowing about any of this.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import discord
import discord.utils

from hh_bot.i18n import using_locale
from hh_bot.i18n.lazy import render_lazy

_MARK = "__hh_renders_lazy_text__"


def install_locale_hook(client: discord.Client) -> None:
    """Run each interaction's handling with its user's Discord locale (``interaction.locale``)."""
    parsers: dict[str, Callable[[Any], None]] = client._connection.parsers
    inner = parsers["INTERACTION_CREATE"]
    if getattr(inner, _MARK, False):
        return

    def parse_interaction_create(data: Any) -> None:
        with using_locale(data.get("locale")):
            inner(data)

    setattr(parse_interaction_create, _MARK, True)
    parsers["INTERACTION_CREATE"] = parse_interaction_create


def install_wire_rendering() -> None:
    """Render lazy catalogue text in every JSON payload discord.py sends (once per process)."""
    original = discord.utils._to_json
    if getattr(original, _MARK, False):
        return

    def to_json(obj: Any) -> str:
        return original(render_lazy(obj))

    setattr(to_json, _MARK, True)
    discord.utils._to_json = to_json
