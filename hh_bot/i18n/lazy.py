"""A catalogue message that renders in the reader's language when it is used.

The Discord layer names its strings once, at import (``NAME = _t("key")``), long before anyone
reads them; which language they show in is known only per interaction. ``LazyText`` is a
``str`` whose value is the English template (so it compares, hashes and sorts as before and
English readers see no change) and which renders in :data:`current_locale` wherever text is
produced from it: ``str()``, f-strings and ``format()``, ``.format``/``.format_map``, ``+``, ``%``.
Code that hands one to a serialiser without any of those (a JSON encoder sees the English
value) must render it first: :func:`render_lazy` does that for a whole payload.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from hh_bot.i18n.catalog import DEFAULT_LOCALE, template
from hh_bot.i18n.locale import current_locale


class LazyText(str):
    """The template of ``key``: English as its value, the current locale when rendered."""

    key: str

    def __new__(cls, key: str) -> LazyText:
        made = super().__new__(cls, template(key, DEFAULT_LOCALE))
        made.key = key
        return made

    def in_locale(self, locale: str) -> str:
        """The template in ``locale`` as a plain ``str``."""
        return template(self.key, locale)

    def rendered(self) -> str:
        """The template in the current locale as a plain ``str``."""
        return template(self.key, current_locale.get())

    def __str__(self) -> str:
        return self.rendered()

    def __format__(self, spec: str) -> str:
        return format(self.rendered(), spec)

    def format(self, *args: Any, **kwargs: Any) -> str:
        return self.rendered().format(*args, **kwargs)

    def format_map(self, mapping: Mapping[str, Any]) -> str:  # type: ignore[override]
        return self.rendered().format_map(mapping)

    def __add__(self, other: str) -> str:
        return self.rendered() + str(other)

    def __radd__(self, other: str) -> str:
        return str(other) + self.rendered()

    def __mod__(self, values: Any) -> str:
        return str(self.rendered() % values)

    def __reduce__(self) -> tuple[Any, ...]:
        return (LazyText, (self.key,))

    def __repr__(self) -> str:
        return f"LazyText({self.key!r})"


def render_lazy(value: Any) -> Any:
    """``value`` with every ``LazyText`` inside it (dicts, lists, tuples) rendered in the
    current locale; anything else is returned as it is (the same object when nothing changed,
    so a payload without lazy text is not copied)."""
    if isinstance(value, LazyText):
        return value.rendered()
    if isinstance(value, dict):
        items = {k: render_lazy(v) for k, v in value.items()}
        return value if all(items[k] is value[k] for k in value) else items
    if isinstance(value, list | tuple):
        done = [render_lazy(v) for v in value]
        if all(a is b for a, b in zip(done, value, strict=True)):
            return value
        return done if isinstance(value, list) else tuple(done)
    return value
