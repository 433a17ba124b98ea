"""Checks of a user's request that need no I/O: prompt, parameters, image count.

They run before the interaction is even deferred, so the cheapest mistakes are answered fastest
and nothing is fetched, reserved or submitted for them.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass

from hh_bot.config import MAX_DURATION, MIN_DURATION, RATIOS, RESOLUTIONS, Defaults
from hh_bot.errors import BadInput

MAX_PROMPT = 5000  # in weighted characters: see ``prompt_weight``
MAX_SEED = 2_147_483_647


@dataclass(frozen=True)
class GenParams:
    """The generation parameters of one request, defaults filled in."""

    resolution: str
    duration: int
    ratio: str
    watermark: bool
    prompt_extend: bool
    seed: int | None


def is_wide(ch: str) -> bool:
    """A CJK-width character: East Asian Wide or Fullwidth (Han, kana, Hangul, fullwidth forms;
    also most emoji, which the upstream tokenizer is no kinder to)."""
    return unicodedata.east_asian_width(ch) in ("W", "F")


def prompt_weight(prompt: str) -> int:
    """The prompt's length against the API's limit of 5000 Latin or 2500 CJK characters.

    Mixed text is counted by one rule: a wide (CJK) character counts two, any other one, and the
    total may not pass 5000. So 5000 Latin, 2500 CJK, or 2000 CJK plus 1000 Latin all fit, and
    nothing the API would silently truncate is ever sent.
    """
    return len(prompt) + sum(1 for ch in prompt if is_wide(ch))


def clean_prompt(text: str | None) -> str:
    """Strip control characters (keeping newlines and tabs) and surrounding space; check length
    (``prompt_weight``): "long_prompt_cjk" when wide characters are what pushed it over."""
    kept = "".join(
        ch for ch in (text or "") if ch in "\n\t" or not unicodedata.category(ch).startswith("C")
    )
    prompt = kept.strip()
    if not prompt:
        raise BadInput("empty_prompt", field="prompt")
    if len(prompt) > MAX_PROMPT:
        raise BadInput("long_prompt", field="prompt")
    if prompt_weight(prompt) > MAX_PROMPT:
        raise BadInput("long_prompt_cjk", field="prompt")
    return prompt


def resolve_params(
    defaults: Defaults,
    *,
    resolution: str | None = None,
    duration: int | None = None,
    ratio: str | None = None,
    watermark: bool | None = None,
    prompt_extend: bool | None = None,
    seed: int | None = None,
) -> GenParams:
    """Fill in defaults and check every value is one the API accepts.

    Types are checked too: an interaction is JSON, and a value of the wrong type (a duration
    of "5" or 5.5) must be refused as out of range, not crash the comparison.
    """
    if resolution is not None and (
        not isinstance(resolution, str) or resolution.upper() not in RESOLUTIONS
    ):
        raise BadInput("bad_resolution", field="resolution")
    if duration is not None and not (_whole(duration) and MIN_DURATION <= duration <= MAX_DURATION):
        raise BadInput("bad_duration", field="duration")
    if ratio is not None and (not isinstance(ratio, str) or ratio not in RATIOS):
        raise BadInput("bad_ratio", field="ratio")
    if seed is not None and not (_whole(seed) and 0 <= seed <= MAX_SEED):
        raise BadInput("bad_seed", field="seed")
    return GenParams(
        resolution=(resolution or defaults.resolution).upper(),
        duration=defaults.duration if duration is None else duration,
        ratio=ratio or defaults.ratio,
        watermark=defaults.watermark if watermark is None else watermark,
        prompt_extend=defaults.prompt_extend if prompt_extend is None else prompt_extend,
        seed=seed,
    )


def _whole(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def parse_int(text: str | None, field: str) -> int | None:
    """A whole number typed into a modal; empty means "not given"."""
    if text is None or not text.strip():
        return None
    try:
        return int(text.strip())
    except ValueError:
        raise BadInput(f"bad_{field}", field=field) from None
