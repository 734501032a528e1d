"""SQL injection: an input pasted into the text of an SQL statement.

Three kinds of proof, cheapest first, for the three string inputs of each
operation most likely to reach a query:

- error: a quote makes the answer quote a database error (the normal answer
  does not), and two quotes (an escaped quote: valid SQL again) make it go away;
- boolean: two payloads that differ only in a condition being true or false
  give answers that differ, consistently over two rounds, and one of them is the
  answer the API gives anyway (the baseline, or the answer for a value that
  matches nothing). ``OR`` and comments only go to GETs: in an UPDATE or a
  DELETE they could reach every row;
- time: only where a quote alone changed the answer and two quotes restored it,
  ``SLEEP`` / ``pg_sleep`` / ``WAITFOR`` of 2 s must delay the answer twice and a
  0 s one must not.

Answers are compared by :func:`fingerprint` (status and JSON shape, or text
without the echoed payload), so an API that echoes its input in a 400 does not
look like one that runs it.
"""

from __future__ import annotations

import random
import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from apiward.core import Owasp, Severity
from apiward.scan.check import Issue, Phase, check
from apiward.scan.checks.injection_points import (
    Point,
    Target,
    base_value,
    delayed,
    each_target,
    fingerprint,
    inject,
    points,
    writes_with_points,
)
from apiward.scan.context import ScanContext
from apiward.scan.detect import sql_error
from apiward.scan.http import Exchange

__all__: list[str] = []

_MAX_POINTS = 3
_DELAY = 2.0
_RANK = re.compile(
    r"^q$|search|query|filter|term|keyword|name|^id$|_id$|user|sort|order|category|type|where"
    r"|lookup|find|code|email|title|city|status",
    re.I,
)


@dataclass(frozen=True, slots=True)
class _Family:
    """A true/false payload pair; ``anchor`` says which answer the API gives anyway."""

    name: str
    true: str
    false: str
    anchor: str  # "base": the true one is the baseline; "nothing": the false one matches nothing


_FAMILIES = (
    _Family("AND", "{v}' AND '{n}'='{n}", "{v}' AND '{n}'='{m}", "base"),
    _Family("OR with a comment", "{z}' OR {n}={n}-- ", "{z}' OR {n}={m}-- ", "nothing"),
    _Family("OR", "{z}' OR '{n}'='{n}", "{z}' OR '{n}'='{m}", "nothing"),
)
_NUMERIC = _Family("numeric AND", "{v} AND {n}={n}", "{v} AND {n}={m}", "base")
# OR and comments are for reads only: in an UPDATE or DELETE they could reach every row
_WRITE_SAFE = frozenset({"AND", "numeric AND"})


def _sleeps(read: bool) -> list[Callable[[str, float], str]]:
    """Sleep payloads (MySQL, PostgreSQL, then SQL Server for reads), quote-balanced.

    Reads use OR, so the sleep runs even when the value matches no row; writes use
    AND, so the statement's own condition still limits what it touches.
    """
    join, tail = (" OR ", "'1'='2") if read else (" AND ", "'1'='1")
    out: list[Callable[[str, float], str]] = [
        # payloads for the API, not queries run here
        lambda v, s: f"{v}'{join}(SELECT 1 FROM (SELECT SLEEP({s:g}))apw){join}{tail}",  # noqa: S608
        lambda v, s: f"{v}'{join}1=(SELECT 1 FROM pg_sleep({s:g})){join}{tail}",  # noqa: S608
    ]
    if read:
        out.append(lambda v, s: f"{v}';WAITFOR DELAY '0:0:{int(s)}'-- ")
    return out


def _error(answer: Exchange | None, payload: str) -> str | None:
    if answer is None:
        return None
    return sql_error(answer.text.replace(payload, ""))


async def _error_based(
    ctx: ScanContext, target: Target, point: Point, value: str
) -> tuple[Issue | None, bool]:
    """(the issue, whether a quote alone changed the answer and two quotes restored it).

    Two quotes are sent only when one changed something: one request per quote
    on an input that does not care.
    """
    candidate = False
    base = fingerprint(target.baseline)
    for quote in ("'", '"'):
        broken = await inject(ctx, target, point, value + quote)
        if broken is None:
            return None, False
        seen = _error(broken, value + quote)
        if seen is None and fingerprint(broken, [value + quote]) == base:
            continue
        escaped = await inject(ctx, target, point, value + quote * 2)
        if seen is not None:
            clean = escaped is not None and _error(escaped, value + quote * 2) is None
            return (
                _issue(
                    target, point, [broken] + ([escaped] if clean and escaped else []),
                    f"a {quote} makes the answer quote a database error ({_short(seen)})"
                    + (f", and {quote * 2} does not" if clean else ""),
                    "certain" if clean else "firm",
                ),
                True,
            )  # fmt: skip
        if escaped is not None and fingerprint(escaped, [value + quote * 2]) == base:
            candidate = True
    return None, candidate


def _short(text: str) -> str:
    """The database's message alone, not the JSON or the trace around it."""
    head = re.split(r"\\n|\n|\\\"\s*[,}]|\"\s*,\s*\"", text, maxsplit=1)[0]
    return head.strip()[:100]


async def _boolean(ctx: ScanContext, target: Target, point: Point, value: str) -> Issue | None:
    families = list(_FAMILIES) + ([_NUMERIC] if value.isdigit() else [])
    if target.op.method != "GET":
        families = [f for f in families if f.name in _WRITE_SAFE]
    nothing_value = f"apwzz{secrets.token_hex(4)}"
    nothing: Exchange | None = None
    for family in families:
        if family.anchor == "nothing" and nothing is None:
            nothing = await inject(ctx, target, point, nothing_value)
            if nothing is None:
                return None
        anchor = target.baseline if family.anchor == "base" else nothing
        assert anchor is not None
        first = await _round(ctx, target, point, family, value, nothing_value)
        if first is None or not _signal(family, first, anchor):
            continue
        second = await _round(ctx, target, point, family, value, nothing_value)
        if second is None or not _same(first, second):
            continue
        true, false = first[0][1], first[1][1]
        return _issue(
            target, point, [true, false, anchor],
            f"{family.name} conditions change the answer: {first[0][0]!r} answers like "
            f"{'the normal request' if family.anchor == 'base' else 'a match-all'}, "
            f"{first[1][0]!r} {'does not' if family.anchor == 'base' else 'like a match-nothing'}"
            " (the same over two rounds)",
            "firm",
        )  # fmt: skip
    return None


_Answer = tuple[str, Exchange]


async def _round(
    ctx: ScanContext, target: Target, point: Point, family: _Family, value: str, nothing: str
) -> tuple[_Answer, _Answer] | None:
    n = random.randint(10, 99)
    m = n + random.randint(1, 9)
    out: list[_Answer] = []
    for template in (family.true, family.false):
        payload = template.format(v=value, z=nothing, n=n, m=m)
        answer = await inject(ctx, target, point, payload)
        if answer is None or answer.status == 0:
            return None
        out.append((payload, answer))
    return out[0], out[1]


def _fp(pair: _Answer) -> tuple[int, Any]:
    return fingerprint(pair[1], [pair[0]])


def _signal(family: _Family, answers: tuple[_Answer, _Answer], anchor: Exchange) -> bool:
    true, false = answers
    if _fp(true) == _fp(false):
        return False
    if family.anchor == "base":
        return _fp(true) == fingerprint(anchor)
    return _fp(false) == fingerprint(anchor) and true[1].ok


def _same(a: tuple[_Answer, _Answer], b: tuple[_Answer, _Answer]) -> bool:
    return _fp(a[0]) == _fp(b[0]) and _fp(a[1]) == _fp(b[1])


async def _time_based(ctx: ScanContext, target: Target, point: Point, value: str) -> Issue | None:
    for payload in _sleeps(target.op.method == "GET"):

        async def send(seconds: float, payload: Callable[[str, float], str] = payload) -> Any:
            return await inject(ctx, target, point, payload(value, seconds))

        proof = await delayed(send, _DELAY)
        if proof is not None:
            return _issue(
                target, point, proof,
                f"a {_DELAY:g} s database sleep delays the answer (twice) and a 0 s one does "
                f"not ({proof[0].elapsed:.1f} s, {proof[1].elapsed:.1f} s, "
                f"{proof[2].elapsed:.1f} s)",
                "firm",
            )  # fmt: skip
    return None


def _issue(
    target: Target, point: Point, exchanges: list[Exchange], how: str, confidence: str
) -> Issue:
    return Issue(
        f"{target.op.key} builds SQL from {point.label}: {how}",
        operation=target.op,
        exchanges=exchanges,
        identity=target.identity.name,
        confidence=confidence,
        key=point.name,
    )


async def _one(ctx: ScanContext, target: Target) -> None:
    if sql_error(target.baseline.text):
        return  # errors on a normal request prove nothing about injection
    candidates: list[tuple[Point, str]] = []
    for point in points(ctx, target.op, rank=_RANK)[:_MAX_POINTS]:
        value = base_value(ctx, target, point)
        issue, candidate = await _error_based(ctx, target, point, value)
        issue = issue or await _boolean(ctx, target, point, value)
        if issue is not None:
            ctx.report(issue)
            return
        if candidate:
            candidates.append((point, value))
    for point, value in candidates:
        issue = await _time_based(ctx, target, point, value)
        if issue is not None:
            ctx.report(issue)
            return


@check(
    "sql-injection",
    title="An input is pasted into SQL (SQL injection)",
    category=Owasp.API8,
    cwe=89,
    severity=Severity.CRITICAL,
    remediation=(
        "Use parameterised queries (bound parameters) or an ORM's query builder for every "
        "value; never format input into SQL text, including ORDER BY columns (allow-list "
        "those), and do not return database errors to the caller."
    ),
    phase=Phase.WRITE,
)
async def sql_injection(ctx: ScanContext) -> None:
    """Sends quotes, true/false conditions and bounded sleeps to string inputs.

    Error-based: fires when a quote makes the answer quote a database error the
    normal answer does not (two quotes, valid SQL again, make it certain).
    Boolean: fires when ``' AND 'n'='n`` / ``' AND 'n'='m`` (and the ``OR`` forms
    after a value that matches nothing) answer differently, consistently twice,
    with one of them answering like the API does anyway. Time-based, only where a
    quote broke the answer and two quotes mended it: fires when a 2 s sleep delays
    the answer twice and a 0 s one does not.
    """
    await each_target(ctx, writes_with_points(ctx), _one)
