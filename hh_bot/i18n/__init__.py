"""Message catalogues and their lookup: the core names a message by key and parameters
(:class:`Reason`), the Discord layer renders it in the reader's language (:func:`text`,
:func:`render`). No discord import here."""

from __future__ import annotations

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
from hh_bot.i18n.reason import Param, Reason

__all__ = [
    "DEFAULT_LOCALE",
    "Param",
    "Reason",
    "keys",
    "locales",
    "placeholders",
    "register",
    "render",
    "template",
    "text",
]
