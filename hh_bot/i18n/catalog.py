"""The lookup: one catalogue per locale, English as the fallback.

A catalogue is a flat mapping of message key → template with ``{named}`` placeholders (see
:mod:`hh_bot.i18n.en`). Keys are dotted and grouped by prefix (``video.*``, ``error.*``,
``reference.*`` …); a key is the same in every locale, and a locale's catalogue may lack keys
(they fall back to English) but may not add any.
"""

from __future__ import annotations

import string
from collections.abc import Mapping

from hh_bot.i18n import en
from hh_bot.i18n.reason import Param, Reason

DEFAULT_LOCALE = "en"

_CATALOGUES: dict[str, Mapping[str, str]] = {DEFAULT_LOCALE: en.MESSAGES}
_FORMATTER = string.Formatter()


def register(locale: str, messages: Mapping[str, str]) -> None:
    """Add (or replace) the catalogue of ``locale``; every key must exist in English."""
    unknown = set(messages) - set(en.MESSAGES)
    if unknown:
        raise ValueError(f"keys not in the English catalogue: {sorted(unknown)}")
    _CATALOGUES[locale] = messages


def locales() -> tuple[str, ...]:
    """The registered locales, English first."""
    return tuple(_CATALOGUES)


def keys() -> frozenset[str]:
    """Every message key (the English catalogue is the reference)."""
    return frozenset(en.MESSAGES)


def template(key: str, locale: str = DEFAULT_LOCALE) -> str:
    """The raw template of ``key`` in ``locale`` (English if the locale lacks it).

    Raises ``KeyError`` for a key that no catalogue has: a typo is a bug, not a message."""
    found = _CATALOGUES.get(locale, {}).get(key)
    if found is None:
        found = en.MESSAGES[key]
    return found


def placeholders(key: str, locale: str = DEFAULT_LOCALE) -> frozenset[str]:
    """The names of the ``{named}`` placeholders of ``key``'s template."""
    return frozenset(
        name for _, name, _, _ in _FORMATTER.parse(template(key, locale)) if name is not None
    )


def text(key: str, locale: str = DEFAULT_LOCALE, **params: Param) -> str:
    """``key``'s template in ``locale`` with ``params`` filled in."""
    return template(key, locale).format_map(params)


def render(reason: Reason, locale: str = DEFAULT_LOCALE) -> str:
    """``reason`` as a sentence in ``locale``; its cause fills the ``{reason}`` placeholder."""
    params: dict[str, Param] = dict(reason.params)
    if reason.cause is not None:
        params["reason"] = render(reason.cause, locale)
    return text(reason.code, locale, **params)
