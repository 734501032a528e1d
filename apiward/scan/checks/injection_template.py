"""Server-side template injection: an input rendered as part of a template.

Each string input gets template expressions of the common engines (``{{a*b}}``
for Jinja2/Twig/Nunjucks, ``${a*b}`` for Freemarker/Mako/EL, ``<%= a*b %>`` for
ERB/EJS, ``#{a*b}`` for Pug/Ruby) with random numbers. Only the engine can put
the product in the answer: the payload holds the expression, not its value.
"""

from __future__ import annotations

import random
import re

from apiward.core import Owasp, Severity
from apiward.scan.check import Phase, check
from apiward.scan.checks.injection_points import (
    Point,
    Target,
    base_value,
    each_target,
    inject,
    point_issue,
    points,
    writes_with_points,
)
from apiward.scan.context import ScanContext
from apiward.scan.http import Exchange

__all__: list[str] = []

_MAX_POINTS = 3
_RANK = re.compile(
    r"template|name|title|subject|message|body|text|content|greeting|description|comment"
    r"|note|memo|bio|label|format|email",
    re.I,
)
_SYNTAXES: tuple[tuple[str, str], ...] = (
    ("{{%d*%d}}", "Jinja2/Twig/Nunjucks"),
    ("${%d*%d}", "Freemarker/Mako/EL"),
    ("<%%= %d*%d %%>", "ERB/EJS"),
    ("#{%d*%d}", "Pug/Ruby/JSF"),
)


def _numbers() -> tuple[int, int]:
    return random.randint(1013, 9973), random.randint(1013, 9973)


def _shows(answer: Exchange | None, baseline: Exchange, product: int) -> bool:
    if answer is None:
        return False
    digits = re.compile(rf"(?<!\d){product}(?!\d)")
    return bool(digits.search(answer.text)) and not digits.search(baseline.text)


async def _evaluated(
    ctx: ScanContext, target: Target, point: Point, syntax: str
) -> list[Exchange] | None:
    value = base_value(ctx, target, point)
    proof: list[Exchange] = []
    for _ in range(2):  # a second pair of numbers rules out a coincidence
        a, b = _numbers()
        answer = await inject(ctx, target, point, value + syntax % (a, b))
        if answer is None or not _shows(answer, target.baseline, a * b):
            return None
        proof.append(answer)
    return proof


async def _suspects(ctx: ScanContext, target: Target, point: Point) -> list[tuple[str, str]]:
    """The syntaxes worth trying one by one, after one request with all of them.

    A product in the answer names its syntax; an error the normal request does
    not cause (one engine choking on another's syntax) leaves every syntax open.
    """
    value = base_value(ctx, target, point)
    pairs = [_numbers() for _ in _SYNTAXES]
    payload = value + "".join(syntax % ab for (syntax, _), ab in zip(_SYNTAXES, pairs, strict=True))
    answer = await inject(ctx, target, point, payload)
    if answer is None:
        return []
    shown = [
        s
        for s, (a, b) in zip(_SYNTAXES, pairs, strict=True)
        if _shows(answer, target.baseline, a * b)
    ]
    if shown:
        return shown
    broke = answer.status >= 500 and target.baseline.status < 500
    return list(_SYNTAXES) if broke else []


async def _one(ctx: ScanContext, target: Target) -> None:
    for point in points(ctx, target.op, rank=_RANK)[:_MAX_POINTS]:
        for syntax, engines in await _suspects(ctx, target, point):
            proof = await _evaluated(ctx, target, point, syntax)
            if proof is None:
                continue
            expression = syntax.replace("%d", "a", 1).replace("%d", "b").replace("%%", "%")
            ctx.report(
                point_issue(
                    target,
                    point,
                    f"{target.op.key} evaluates {expression} sent in {point.label}: the "
                    f"product comes back ({engines} syntax)",
                    proof,
                )
            )
            return


@check(
    "ssti",
    title="An input is evaluated as a server-side template (SSTI)",
    category=Owasp.API8,
    cwe=1336,
    severity=Severity.CRITICAL,
    remediation=(
        "Never build templates from input: pass input to a fixed template as data (a "
        "context variable), and render untrusted templates only in a sandbox."
    ),
    phase=Phase.WRITE,
)
async def ssti(ctx: ScanContext) -> None:
    """Appends template expressions multiplying two random numbers to string inputs.

    ``{{a*b}}``, ``${a*b}``, ``<%= a*b %>`` and ``#{a*b}``, all in one request per
    input (up to three inputs per operation), then the syntax that showed a product
    (or each of them when the combination broke the answer) alone. Fires when the
    product appears in the answer (not in the normal answer, and not in the
    payload, which only holds the expression), twice with different numbers.
    """
    await each_target(ctx, writes_with_points(ctx), _one)
