"""Per-server blocked words and phrases: validating entries and matching prompts against them.

Pure: no store, no Discord, no words for people. The store keeps each server's entries as the
``BlockRule.text`` strings; ``BlockList.from_stored`` rebuilds the list, ``BlockList.adding`` /
``removing`` validate an admin's change, ``Matcher.check`` runs before anything is reserved.

How entries match (the contract the admin help text describes):

* **Case and width do not matter.** Prompt and entry are both folded the same way: Unicode NFKC
  (full-width ``ＡＢＣ`` → ``abc``, half-width katakana → full-width), then ``casefold`` (``ß`` →
  ``ss``), invisible characters (zero-width space/joiner, soft hyphen and the other ``Cf``,
  variation selectors) removed, and every run of white space (including the ideographic space)
  read as one space.
* **Whole words in scripts written with spaces** (Latin, Cyrillic, Greek, Korean Hangul, …): an
  entry edge that is a letter or digit of such a script must sit at a word edge of the prompt, so
  ``ass`` does not match ``class``. Korean counts as spaced (its words are separated by spaces);
  since particles attach to nouns (``바보야``), admins write ``바보*`` to catch them.
* **Plain substrings in scripts written without spaces**: Han ideographs (Chinese, kanji),
  hiragana, katakana, Thai, Lao, Khmer and Myanmar. An entry edge in those scripts needs no word
  edge, so ``色情`` matches inside ``免费色情视频``. Mixed entries decide per edge
  (``iphone手机``: word edge before ``i``, none after ``机``).
* **``*`` is a wildcard within a word**: it stands for any run of characters, including none,
  that contains no white space and no punctuation; it never crosses words (or, in scripts
  without spaces, clause punctuation such as ``，``). ``f*ck`` matches ``fack``; ``*coin``
  matches ``bitcoin``; ``scam*`` matches ``scammers``; a ``*`` standing alone between spaces is
  exactly one word: ``buy * now`` matches ``buy pills now``, not ``buy now``. There is no way to
  block a literal ``*``, and no other special character: everything else matches itself.
* **Refused entries** (``RuleRefusal``): empty, white space only, wildcards only, punctuation
  only (``.`` would block nearly every prompt), longer than ``MAX_RULE_CHARS``, more than
  ``MAX_WILDCARDS`` wildcards, control or invisible format characters (including zero-width
  joiners; tabs and newlines are white space), a duplicate, one more than ``MAX_RULES``.

No regular expression is built from an entry. The matcher searches literal pieces with
``str.find`` in bounded windows and commits to the earliest fit of each middle piece (which is
never worse than a later one, since a wildcard cannot leave its word); after a failed attempt it
skips the rest of that word. Every position of the prompt is therefore looked at a bounded number
of times per entry: the cost is linear in the prompt length, whatever the entry or the prompt
(``BlockMatch.effort`` reports the work done, so a test can check it without a clock).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from functools import lru_cache

from hh_bot.errors import BadInput

MAX_RULE_CHARS = 100
"""Longest entry, in characters, before and after folding."""
MAX_RULES = 500
"""Most entries one server can hold."""
MAX_WILDCARDS = 4
"""Most ``*`` in one entry (after merging ``**`` into one)."""
WILDCARD = "*"


class RuleRefusal(StrEnum):
    """Why an entry was refused; the Discord layer owns the words for each code."""

    EMPTY = "empty"
    WHITESPACE_ONLY = "whitespace_only"
    ONLY_WILDCARDS = "only_wildcards"
    ONLY_PUNCTUATION = "only_punctuation"
    TOO_LONG = "too_long"
    TOO_MANY_WILDCARDS = "too_many_wildcards"
    CONTROL_CHARACTER = "control_character"
    TOO_MANY_RULES = "too_many_rules"
    DUPLICATE = "duplicate"
    NOT_FOUND = "not_found"


class RuleRefused(BadInput):
    """An admin's block-list change was refused. ``limit`` is the bound that was hit, if any.
    ``reason`` is ``"blocklist_<code>"``, a key for the Discord layer's ``BAD_INPUT`` table."""

    def __init__(self, code: RuleRefusal, *, limit: int | None = None) -> None:
        params = {"limit": limit} if limit is not None else None
        super().__init__(f"blocklist_{code.value}", field="blocklist", params=params)
        self.code = code
        self.limit = limit


# -- folding -------------------------------------------------------------------------------

_UNSPACED_RANGES: tuple[tuple[int, int], ...] = (
    (0x0E00, 0x0EFF),  # Thai, Lao
    (0x1000, 0x109F),  # Myanmar
    (0x1780, 0x17FF),  # Khmer
    (0x19E0, 0x19FF),  # Khmer symbols
    (0x2E80, 0x2FDF),  # CJK radicals, Kangxi radicals
    (0x3005, 0x3007),  # 々 〆 〇
    (0x3021, 0x3029),  # Hangzhou numerals
    (0x3031, 0x3035),  # kana repeat marks
    (0x3040, 0x30FF),  # hiragana, katakana (with ー)
    (0x3190, 0x319F),  # kanbun
    (0x31C0, 0x31FF),  # CJK strokes, katakana extension
    (0x3400, 0x4DBF),  # CJK extension A
    (0x4E00, 0x9FFF),  # CJK unified ideographs
    (0xF900, 0xFAFF),  # CJK compatibility ideographs
    (0xFF66, 0xFF9F),  # half-width katakana (folded away by NFKC, kept for safety)
    (0x1B000, 0x1B16F),  # kana supplement and extensions
    (0x20000, 0x3FFFF),  # CJK extensions B onwards
)


def _unspaced(cp: int) -> bool:
    return any(lo <= cp <= hi for lo, hi in _UNSPACED_RANGES)


@lru_cache(maxsize=8192)
def _kind(ch: str) -> int:
    """0: white space or punctuation (stops a wildcard); 1: letter/digit of a spaced script
    (a word character); 2: anything else a wildcard may cover (unspaced scripts, symbols)."""
    if ch.isspace():
        return 0
    cat = unicodedata.category(ch)
    if cat[0] == "P":
        return 0
    if cat[0] in "LMN" and not _unspaced(ord(ch)):
        return 1
    return 2


@lru_cache(maxsize=8192)
def _invisible(ch: str) -> bool:
    """Format characters and emoji/ideograph variation selectors: no glyph of their own."""
    cp = ord(ch)
    return 0xFE00 <= cp <= 0xFE0F or 0xE0100 <= cp <= 0xE01EF or unicodedata.category(ch) == "Cf"


class _CharTables:
    """``str.translate`` tables filled in as characters are first seen, so folding and
    classifying a prompt run in C rather than one Python call per character. Shared by every
    matcher (dictionary updates are atomic); emptied if they ever grow past ``limit``."""

    def __init__(self, limit: int = 50_000) -> None:
        self.limit = limit
        self.drop: dict[int, None] = {}
        self.checked: set[str] = set()
        self.kinds: dict[int, str] = {}

    def without_invisible(self, text: str) -> str:
        if text.isascii():
            return text
        new = set(text) - self.checked
        if len(self.checked) + len(new) > self.limit:
            self.checked, self.drop = set(), {}
            new = set(text)
        for ch in new:
            if _invisible(ch):
                self.drop[ord(ch)] = None
        self.checked |= new
        return text.translate(self.drop)

    def kinds_of(self, text: str) -> str:
        """One of ``"0"``, ``"1"``, ``"2"`` per character (see ``_kind``)."""
        new = [ch for ch in set(text) if ord(ch) not in self.kinds]
        if len(self.kinds) + len(new) > self.limit:
            self.kinds = {}
            new = list(set(text))
        for ch in new:
            self.kinds[ord(ch)] = str(_kind(ch))
        return text.translate(self.kinds)


_tables = _CharTables()


def fold(text: str) -> str:
    """The form prompts and entries are compared in (see the module docstring)."""
    folded = unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", text).casefold())
    return " ".join(_tables.without_invisible(folded).split())


# -- rules ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class BlockRule:
    """One blocked word or phrase."""

    text: str
    """As the admin typed it, trimmed with white space runs merged: what ``list`` shows and what
    the store keeps."""
    key: str
    """The folded form with ``**`` merged; two entries with the same key are duplicates."""
    pieces: tuple[str, ...]
    """The literal pieces between wildcards (none empty)."""
    open_start: bool
    """The entry starts with ``*`` (or with a character that needs no word edge)."""
    open_end: bool
    """The entry ends with ``*`` (or with a character that needs no word edge)."""


def parse_rule(raw: str) -> BlockRule:
    """Validate one entry. Raises ``RuleRefused`` with the first reason that applies."""
    if raw == "":
        raise RuleRefused(RuleRefusal.EMPTY)
    if len(raw) > MAX_RULE_CHARS:
        raise RuleRefused(RuleRefusal.TOO_LONG, limit=MAX_RULE_CHARS)
    if raw.strip() == "":
        raise RuleRefused(RuleRefusal.WHITESPACE_ONLY)
    if any(unicodedata.category(ch)[0] == "C" and not ch.isspace() for ch in raw):
        raise RuleRefused(RuleRefusal.CONTROL_CHARACTER)
    key = fold(raw)
    while WILDCARD * 2 in key:
        key = key.replace(WILDCARD * 2, WILDCARD)
    if len(key) > MAX_RULE_CHARS:
        raise RuleRefused(RuleRefusal.TOO_LONG, limit=MAX_RULE_CHARS)
    if key.replace(WILDCARD, "").strip() == "":
        raise RuleRefused(RuleRefusal.ONLY_WILDCARDS)
    if all(_kind(ch) == 0 for ch in key.replace(WILDCARD, "")):
        raise RuleRefused(RuleRefusal.ONLY_PUNCTUATION)  # "." would block nearly every prompt
    if key.count(WILDCARD) > MAX_WILDCARDS:
        raise RuleRefused(RuleRefusal.TOO_MANY_WILDCARDS, limit=MAX_WILDCARDS)
    parts = key.split(WILDCARD)
    pieces = tuple(p for p in parts if p)
    return BlockRule(
        text=" ".join(raw.split()),
        key=key,
        pieces=pieces,
        open_start=parts[0] == "" or _kind(pieces[0][0]) != 1,
        open_end=parts[-1] == "" or _kind(pieces[-1][-1]) != 1,
    )


@dataclass(frozen=True)
class BlockList:
    """One server's entries, in the order they were added."""

    rules: tuple[BlockRule, ...] = ()

    @classmethod
    def from_stored(cls, texts: Iterable[str]) -> BlockList:
        """Rebuild from stored ``BlockRule.text`` values; entries that no longer validate (the
        limits changed) and duplicates are dropped rather than blocking every prompt."""
        rules: list[BlockRule] = []
        seen: set[str] = set()
        for text in texts:
            try:
                rule = parse_rule(text)
            except RuleRefused:
                continue
            if rule.key not in seen and len(rules) < MAX_RULES:
                seen.add(rule.key)
                rules.append(rule)
        return cls(tuple(rules))

    @property
    def texts(self) -> tuple[str, ...]:
        return tuple(rule.text for rule in self.rules)

    def find(self, raw: str) -> BlockRule | None:
        """The entry an admin means by ``raw`` (compared folded), if present."""
        try:
            key = parse_rule(raw).key
        except RuleRefused:
            return None
        return next((rule for rule in self.rules if rule.key == key), None)

    def adding(self, raw: str) -> BlockList:
        """This list with ``raw`` added; ``RuleRefused`` if it is invalid, a duplicate or one
        too many."""
        rule = parse_rule(raw)
        if any(existing.key == rule.key for existing in self.rules):
            raise RuleRefused(RuleRefusal.DUPLICATE)
        if len(self.rules) >= MAX_RULES:
            raise RuleRefused(RuleRefusal.TOO_MANY_RULES, limit=MAX_RULES)
        return BlockList((*self.rules, rule))

    def removing(self, raw: str) -> BlockList:
        """This list without ``raw``; ``RuleRefused(NOT_FOUND)`` if it is not there."""
        rule = self.find(raw)
        if rule is None:
            raise RuleRefused(RuleRefusal.NOT_FOUND)
        return BlockList(tuple(r for r in self.rules if r is not rule))

    def matcher(self) -> Matcher:
        return Matcher(self.rules)


# -- matching ------------------------------------------------------------------------------


@dataclass(frozen=True)
class BlockMatch:
    """The answer for one prompt. The refusal shown to the member must not quote ``rule``."""

    rule: BlockRule | None
    """The first entry (in list order) that matched, or ``None``."""
    index: int | None
    """Its position in the list, for an admin's ``list`` view."""
    effort: int
    """Characters and candidate positions examined: a machine-independent cost measure."""

    @property
    def matched(self) -> bool:
        return self.rule is not None


_WORD_START = re.compile("(?<!1)1")  # over the kinds string, never over user text


class _Prompt:
    """A folded prompt and the character kinds every entry's search consults."""

    __slots__ = ("kinds", "n", "text")

    def __init__(self, raw: str) -> None:
        self.text = fold(raw)
        self.n = len(self.text)
        self.kinds = _tables.kinds_of(self.text)

    def next_stop(self, pos: int) -> int:
        """Where the run a wildcard may cover from ``pos`` ends (the first stop at or after)."""
        found = self.kinds.find("0", pos)
        return self.n if found < 0 else found

    def next_word_start(self, pos: int) -> int:
        found = _WORD_START.search(self.kinds, pos)
        return self.n if found is None else found.start()

    def edge_before(self, i: int) -> bool:
        return i == 0 or self.kinds[i - 1] != "1"

    def edge_after(self, end: int) -> bool:
        return end >= self.n or self.kinds[end] != "1"


class Matcher:
    """All of one server's entries, ready to check prompts. Cheap to build; keep one per list."""

    def __init__(self, rules: Sequence[BlockRule]) -> None:
        self._rules = tuple(rules)

    def check(self, prompt: str) -> BlockMatch:
        """The first entry that ``prompt`` matches, or a miss."""
        if not self._rules:
            return BlockMatch(None, None, 0)
        text = _Prompt(prompt)
        effort = text.n
        for index, rule in enumerate(self._rules):
            hit, cost = _search(rule, text)
            effort += cost
            if hit:
                return BlockMatch(rule, index, effort)
        return BlockMatch(None, None, effort)

    def all_matches(self, prompt: str) -> tuple[BlockRule, ...]:
        """Every entry ``prompt`` matches (for an admin testing their list)."""
        text = _Prompt(prompt)
        return tuple(rule for rule in self._rules if _search(rule, text)[0])


def _search(rule: BlockRule, p: _Prompt) -> tuple[bool, int]:
    """Whether ``rule`` occurs in ``p``, and the work spent finding out."""
    text, first = p.text, rule.pieces[0]
    effort = 0
    start = 0
    while True:
        i = text.find(first, start)
        effort += (p.n if i < 0 else i) - start + 1
        if i < 0:
            return False, effort
        if not rule.open_start and not p.edge_before(i):
            start = max(p.next_word_start(i), i + 1)
            effort += start - i
            continue
        end = i + len(first)
        if len(rule.pieces) == 1:
            if rule.open_end or p.edge_after(end):
                return True, effort
            start = i + 1
            continue
        hit, cost = _rest(rule, p, end)
        effort += cost
        if hit:
            return True, effort
        # Any later start whose first piece ends in the same run leaves the rest no more room.
        start = max(i + 1, p.next_stop(end) - len(first) + 1)


def _rest(rule: BlockRule, p: _Prompt, pos: int) -> tuple[bool, int]:
    """Match the pieces after the first, each after a wildcard, from ``pos``."""
    text, effort = p.text, 0
    for piece in rule.pieces[1:-1]:
        limit = p.next_stop(pos) + len(piece)
        j = text.find(piece, pos, limit)
        effort += limit - pos + 1
        if j < 0:
            return False, effort
        pos = j + len(piece)
    last = rule.pieces[-1]
    limit = p.next_stop(pos) + len(last)
    effort += limit - pos + 1
    j = text.find(last, pos, limit)
    while j >= 0:
        effort += 1
        if rule.open_end or p.edge_after(j + len(last)):
            return True, effort
        j = text.find(last, j + 1, limit)
    return False, effort
