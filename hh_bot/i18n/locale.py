"""Whose language a message is rendered in: one context variable, set at the boundary.

The Discord layer sets it once per interaction (the reader's Discord locale) and once per piece
of background work (the server's locale for channel posts, the user's for DMs); everything
rendered below that point, in the same task or in tasks it starts, follows it. Catalogue
lookups that name no locale (:class:`hh_bot.i18n.lazy.LazyText`) read it.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from hh_bot.i18n.catalog import DEFAULT_LOCALE, locales

current_locale: ContextVar[str] = ContextVar("hh_bot_locale", default=DEFAULT_LOCALE)
"""The catalogue locale messages are rendered in right now ("en" unless set)."""

_ALIASES = {"zh": "zh-CN", "zh-Hans": "zh-CN", "zh-SG": "zh-CN"}


def catalogue_locale(discord_locale: str | None) -> str:
    """The catalogue for a Discord locale ("en-US", "zh-CN", …): an exact catalogue, else one
    for the same language, else English. Traditional Chinese (zh-TW) is not Simplified:
    it gets English rather than the wrong script."""
    if not discord_locale:
        return DEFAULT_LOCALE
    known = locales()
    wanted = _ALIASES.get(discord_locale, discord_locale)
    if wanted in known:
        return wanted
    language = wanted.split("-", 1)[0]
    if language in known:
        return language
    return DEFAULT_LOCALE


@contextmanager
def using_locale(locale: str | None) -> Iterator[str]:
    """Render in ``locale`` (a Discord or catalogue locale) inside the block; yields the
    catalogue locale chosen."""
    chosen = catalogue_locale(locale)
    token = current_locale.set(chosen)
    try:
        yield chosen
    finally:
        current_locale.reset(token)
