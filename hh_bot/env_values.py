"""Reading typed values from the environment: one clear error per missing or malformed key.

``Reader`` turns the raw text of a key into a value with a parser (the small functions below),
raising ``ConfigError`` with a one-line message that names the key and what it expects.
Secrets are wrapped in ``Secret`` so that no repr, f-string or log line can show them.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from typing import TypeVar

from hh_bot.api.result_link import base_url_problem

T = TypeVar("T")


class ConfigError(Exception):
    """A configuration key is missing or malformed; the message names it."""


class Secret:
    """A string that never shows itself: ``str``/``repr`` print a mask, ``.reveal()`` the value."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return "Secret('****')"

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(self._value)


def usd_to_milli(text: str) -> int:
    """Dollars as text ("0.126") to integer millidollars (126); the ledger's unit."""
    value = float(text)
    if not math.isfinite(value) or value < 0:  # "inf" would overflow round()
        raise ValueError("negative or not finite")
    return round(value * 1000)


class Reader:
    def __init__(self, env: Mapping[str, str]) -> None:
        self._env = env

    def raw(self, key: str) -> str | None:
        value = self._env.get(key)
        if value is None or value.strip() == "":
            return None
        return value.strip()

    def required(self, key: str) -> str:
        value = self.raw(key)
        if value is None:
            raise ConfigError(f"{key} is missing: set it in .env (see .env.example)")
        return value

    def get(self, key: str, parse: Callable[[str], T], default: T, what: str) -> T:
        value = self.raw(key)
        if value is None:
            return default
        try:
            return parse(value)
        except (ValueError, TypeError):
            raise ConfigError(f"{key} is malformed: expected {what}") from None

    def optional(self, key: str, parse: Callable[[str], T], what: str) -> T | None:
        return self.get(key, parse, None, what)

    def limit(self, key: str, default: int | None) -> int | None:
        """A money limit in dollars; empty keeps the default, "none"/"unlimited" removes it."""
        value = self.raw(key)
        if value is None:
            return default
        if value.lower() in ("none", "unlimited", "off"):
            return None
        return self.get(key, usd_to_milli, default, "an amount in dollars or 'none'")


def bool_value(text: str) -> bool:
    lowered = text.lower()
    if lowered in ("1", "true", "yes", "on"):
        return True
    if lowered in ("0", "false", "no", "off"):
        return False
    raise ValueError(text)


def choice(options: tuple[str, ...]) -> Callable[[str], str]:
    def parse(text: str) -> str:
        for option in options:
            if text.upper() == option.upper():
                return option
        raise ValueError(text)

    return parse


def int_range(low: int, high: int) -> Callable[[str], int]:
    def parse(text: str) -> int:
        value = int(text)
        if not low <= value <= high:
            raise ValueError(text)
        return value

    return parse


def positive_float(minimum: float = 0.0) -> Callable[[str], float]:
    def parse(text: str) -> float:
        value = float(text)
        if not (value >= minimum and math.isfinite(value)):  # also rejects NaN and inf
            raise ValueError(text)
        return value

    return parse


def snowflake(text: str) -> int:
    value = int(text)
    if value <= 0:
        raise ValueError(text)
    return value


def url_value(text: str) -> str:
    """An https base URL, or http to a loopback host (a local test fake): the key travels there."""
    if not text.startswith(("https://", "http://")) or base_url_problem(text) is not None:
        raise ValueError(text)
    return text.rstrip("/")


def log_level(text: str) -> str:
    level = text.upper()
    if level not in ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"):
        raise ValueError(text)
    return level
