"""Strings that match a regular expression, for ``pattern`` constraints.

Covers the common subset of ECMA-262 patterns that API documents use: literals, escapes,
character classes, ``.``, groups, alternation, quantifiers and anchors. Lookarounds and
backreferences are approximated by nothing; every string is checked with Python's ``re``
before it is returned, so an approximation costs a retry, never a wrong answer.
"""

from __future__ import annotations

import functools
import random
import re
import string
from dataclasses import dataclass
from typing import Any

from apiward.scan.values_schema import compiled

__all__ = ["pattern_string"]

MAX_STRING = 10_000


class _Unsupported(ValueError):
    pass


@dataclass(frozen=True, slots=True)
class _Set:
    """A character class: any of ``items`` (each a possibly negated range list), or none."""

    items: tuple[tuple[bool, tuple[tuple[int, int], ...]], ...]
    negated: bool = False

    def has(self, c: int) -> bool:
        hit = any(any(lo <= c <= hi for lo, hi in r) != neg for neg, r in self.items)
        return hit != self.negated


@dataclass(frozen=True, slots=True)
class _Rep:
    node: Any
    lo: int
    hi: int | None


_DIGIT = ((48, 57),)
_WORD = ((48, 57), (65, 90), (95, 95), (97, 122))
_SPACE = ((9, 13), (32, 32))
_LETTER = ((65, 90), (97, 122))
_SHORTHAND = {"d": (False, _DIGIT), "w": (False, _WORD), "s": (False, _SPACE),
              "D": (True, _DIGIT), "W": (True, _WORD), "S": (True, _SPACE)}  # fmt: skip
_CONTROL = {"n": 10, "t": 9, "r": 13, "f": 12, "v": 11, "0": 0}
_ANY = _Set(((True, ((10, 10),)),))
_PREFERRED = string.ascii_lowercase + string.digits + string.ascii_uppercase + "_-."


class _RegexParser:
    """Parses the common subset of ECMA-262 patterns into nodes: str (literal), _Set,
    list (sequence), tuple (alternatives), _Rep. Lookarounds and backreferences match ''."""

    def __init__(self, pattern: str) -> None:
        self.p = pattern
        self.i = 0

    def parse(self) -> Any:
        node = self.alternatives()
        if self.i != len(self.p):
            raise _Unsupported(f"unbalanced ) at {self.i}")
        return node

    def peek(self) -> str:
        return self.p[self.i] if self.i < len(self.p) else ""

    def take(self) -> str:
        if self.i >= len(self.p):
            raise _Unsupported("unexpected end")
        self.i += 1
        return self.p[self.i - 1]

    def alternatives(self) -> Any:
        options = [self.sequence()]
        while self.peek() == "|":
            self.i += 1
            options.append(self.sequence())
        return options[0] if len(options) == 1 else tuple(options)

    def sequence(self) -> list[Any]:
        parts: list[Any] = []
        while self.peek() not in ("", "|", ")"):
            atom = self.atom()
            parts.append(self.quantified(atom))
        return parts

    def quantified(self, atom: Any) -> Any:
        c = self.peek()
        bounds: tuple[int, int | None] | None = None
        if c and c in "*+?":
            self.i += 1
            bounds = {"*": (0, None), "+": (1, None), "?": (0, 1)}[c]
        elif c == "{":
            m = re.match(r"\{(\d+)(,(\d*))?\}", self.p[self.i :])
            if m:
                self.i += m.end()
                lo = int(m.group(1))
                hi = lo if m.group(2) is None else int(m.group(3)) if m.group(3) else None
                bounds = (lo, hi)
        if bounds is None:
            return atom
        if self.peek() in ("?", "+"):
            self.i += 1  # lazy / possessive: the same strings match
        return _Rep(atom, min(bounds[0], MAX_STRING), bounds[1])

    def atom(self) -> Any:
        c = self.take()
        if c == "(":
            return self.group()
        if c == "[":
            return self.char_class()
        if c == "\\":
            esc = self.escape(in_class=False)
            return chr(esc) if isinstance(esc, int) else esc
        if c == ".":
            return _ANY
        if c in "^$":
            return ""
        return c

    def group(self) -> Any:
        lookaround = False
        if self.p.startswith("?", self.i):
            m = re.match(
                r"\?(:|=|!|<=|<!|P?<[A-Za-z_][A-Za-z0-9_]*>|[a-zA-Z-]+:?)", self.p[self.i :]
            )
            if m is None:
                raise _Unsupported("unknown group")
            self.i += m.end()
            kind = m.group(1)
            lookaround = kind in ("=", "!", "<=", "<!")
            if kind[0].isalpha() and kind[0] != "P" and not kind.endswith(":"):
                if self.take() != ")":  # an inline flag group such as (?i)
                    raise _Unsupported("flags")
                return ""
        inner = self.alternatives()
        if self.take() != ")":
            raise _Unsupported("unclosed group")
        return "" if lookaround else inner

    def escape(self, *, in_class: bool) -> int | _Set | str:
        c = self.take()
        if c in _SHORTHAND:
            return _Set((_SHORTHAND[c],))
        if c in _CONTROL:
            return _CONTROL[c]
        if c == "b":
            return 8 if in_class else ""
        if c in "BAZzG" or (c.isdigit() and not in_class):
            return ""  # anchors and backreferences: approximated by nothing
        if c in "xu":
            if self.p.startswith("{", self.i):
                end = self.p.index("}", self.i)
                digits, self.i = self.p[self.i + 1 : end], end + 1
            else:
                n = 2 if c == "x" else 4
                digits, self.i = self.p[self.i : self.i + n], self.i + n
            try:
                return int(digits, 16)
            except ValueError:
                raise _Unsupported("bad hex escape") from None
        if c in "pP":
            if self.p.startswith("{", self.i):
                self.i = self.p.index("}", self.i) + 1
            return _Set(((c == "P", _LETTER),))
        if c == "k":
            if self.p.startswith("<", self.i):
                self.i = self.p.index(">", self.i) + 1
            return ""
        if c == "c":
            return ord(self.take()) % 32
        return ord(c)

    def char_class(self) -> _Set:
        negated = self.peek() == "^"
        if negated:
            self.i += 1
        items: list[tuple[bool, tuple[tuple[int, int], ...]]] = []
        first = True
        while first or self.peek() != "]":
            first = False
            lo = self.class_atom()
            if isinstance(lo, _Set):
                items.extend(lo.items)
                continue
            if self.peek() == "-" and self.p[self.i + 1 : self.i + 2] not in ("]", ""):
                self.i += 1
                hi = self.class_atom()
                if isinstance(hi, _Set):
                    items.extend(((False, ((lo, lo), (45, 45))), *hi.items))
                    continue
                items.append((False, ((min(lo, hi), max(lo, hi)),)))
            else:
                items.append((False, ((lo, lo),)))
        self.i += 1
        return _Set(tuple(items), negated)

    def class_atom(self) -> int | _Set:
        c = self.take()
        if c != "\\":
            return ord(c)
        esc = self.escape(in_class=True)
        if isinstance(esc, str):
            raise _Unsupported("anchor in class")
        return esc


@functools.lru_cache(maxsize=512)
def _regex(pattern: str) -> Any:
    try:
        return _RegexParser(pattern).parse()
    except (_Unsupported, ValueError, IndexError, RecursionError):
        return None


@functools.lru_cache(maxsize=1024)
def _choices(chars: _Set) -> tuple[str, ...]:
    good = tuple(c for c in _PREFERRED if chars.has(ord(c)))
    if good:
        return good
    firsts = [lo for neg, r in chars.items if not neg for lo, _ in r]
    for c in [*firsts, *range(32, 0x3000)]:
        if chars.has(c) and not 0xD800 <= c <= 0xDFFF:
            return (chr(c),)
    raise _Unsupported("empty class")


class _TooLong(Exception):
    pass


def _sample(node: Any, rng: random.Random, reps: int, out: list[str]) -> None:
    """Append one string ``node`` matches; unbounded repetitions repeat ``reps`` times."""
    if isinstance(node, str):
        out.append(node)
    elif isinstance(node, _Set):
        out.append(rng.choice(_choices(node)))
    elif isinstance(node, list):
        for part in node:
            _sample(part, rng, reps, out)
    elif isinstance(node, tuple):
        _sample(rng.choice(node), rng, reps, out)
    else:
        count = max(node.lo, reps) if node.hi is None else min(max(node.lo, reps), node.hi)
        for _ in range(count):
            _sample(node.node, rng, reps, out)
            if len(out) > MAX_STRING:
                raise _TooLong


_MAX_REPS = 1024


def pattern_string(pattern: str, lo: int, hi: int, rng: random.Random) -> str | None:
    """A string that matches ``pattern`` with a length in [lo, hi], or None.

    Unbounded repetitions (``*``, ``+``, ``{n,}``) repeat ``reps`` times: 1 and 0 first (short
    and readable), then a binary search for the ``reps`` that reaches ``lo``, since length
    grows with it.
    """
    node = _regex(pattern)
    if node is None or hi < lo:
        return None
    check = compiled(pattern)

    def attempt(reps: int) -> tuple[str | None, int]:
        """A match, or None and the length reached (-1: too long)."""
        length = -1
        for _ in range(3):  # alternatives and lookaheads: a few draws
            out: list[str] = []
            try:
                _sample(node, rng, reps, out)
            except _TooLong:
                return None, -1
            except _Unsupported:
                return None, 0
            s = "".join(out)
            if lo <= len(s) <= hi and (check is None or check.search(s)):
                return s, len(s)
            length = len(s) if len(s) <= hi else -1
        return None, length

    for reps in (1, 0):
        found, _ = attempt(reps)
        if found is not None:
            return found
    low, high = 2, _MAX_REPS
    while low <= high:  # about ten steps
        mid = (low + high) // 2
        found, length = attempt(mid)
        if found is not None:
            return found
        if length < 0:
            high = mid - 1
        else:  # too short, or the right length but a lookahead failed: longer
            low = mid + 1
    return None
