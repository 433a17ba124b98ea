"""Message catalogues and their lookup: the core names a message by key and parameters
(:class:`Reason`), the Discord layer renders it in the reader's language (:func:`text`,
:func:`render`; :data:`current_locale` and :func:`using_locale` say whose). English and
Simplified Chinese (zh-CN, registered on import) are the catalogues. No discord import here."""

from __future__ import annotations

from hh_bot.i18n import zh_cn  # noqa: F401  (registers the zh-CN catalogue)
from hh_bot.i18n.catalog import (
    DEFAULT_LOCALE,
    keys,
    locales,
    placeholders,
    register,
    render,
    template,
    text,
)
from hh_bot.i18n.locale import catalogue_locale, current_locale, using_locale
from hh_bot.i18n.reason import Param, Reason

__all__ = [
    "DEFAULT_LOCALE",
    "Param",
    "Reason",
    "catalogue_locale",
    "current_locale",
    "keys",
    "locales",
    "placeholders",
    "register",
    "render",
    "template",
    "text",
    "using_locale",
]
