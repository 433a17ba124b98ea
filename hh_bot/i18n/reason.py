"""A reason the core gives for refusing something, named by catalogue key and parameters.

The core never composes sentences: it returns ``Reason("reference.address.loopback")`` and the
Discord layer renders it through the catalogue (:func:`hh_bot.i18n.catalog.render`) in the
reader's language. A reason that explains another ("redirects to {target}: {reason}") carries
it as its ``cause``; the catalogue template names the cause's place as ``{reason}``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

Param = str | int | float
"""A value a template may show: names, hosts and counts, never secrets."""


@dataclass(frozen=True)
class Reason:
    """One refusal: ``code`` is a catalogue key, ``params`` fill its placeholders."""

    code: str
    """The catalogue key of the template, e.g. ``"reference.too_large"``."""
    params: Mapping[str, Param] = field(default_factory=dict)
    """Values for the template's ``{named}`` placeholders (except ``reason``)."""
    cause: Reason | None = None
    """The reason this one wraps, rendered into the template's ``{reason}`` placeholder."""

    def __post_init__(self) -> None:
        object.__setattr__(self, "params", MappingProxyType(dict(self.params)))

    def __hash__(self) -> int:
        return hash((self.code, tuple(sorted(self.params.items())), self.cause))

    def codes(self) -> tuple[str, ...]:
        """The codes from the outermost reason to the innermost cause."""
        return (self.code, *(self.cause.codes() if self.cause else ()))
