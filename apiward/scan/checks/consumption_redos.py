"""API4 ReDoS: a parameter matched by a backtracking regex, so a short string costs seconds.

Inputs grow in small steps and stop at the first slow answer, so a vulnerable
server is kept busy for a few seconds at most. A slowdown counts when it is
large (over a fixed differential), grew with the input, and shows again twice
against fresh baselines. Runs in the NOISY phase, alone: a server it slows
down must not make other timing checks see delays of their own.
"""

from __future__ import annotations

import asyncio
import re
from typing import Any

from apiward.core import Operation, Owasp, Parameter, Severity
from apiward.scan.check import Issue, Phase, check
from apiward.scan.context import ScanContext
from apiward.scan.http import Exchange
from apiward.scan.identity import Identity
from apiward.scan.payloads import redos_inputs
from apiward.scan.values import inline

_TIMEOUT = 3.0
_SLOW = 0.6  # seconds over the baseline
_GROWTH = 2.0  # the same input shorter was at least this many times faster
_LENGTHS = (12, 16, 18, 20, 22, 24, 26, 8000)  # exponential patterns, then quadratic ones
_MAX_CANDIDATES = 5
_NAMES = re.compile(
    r"e?mail|regexp?|pattern|search|query|^q$|filter|match|expr|term|keyword|lookup", re.I
)


def _candidates(ctx: ScanContext) -> list[tuple[Operation, Parameter, dict[str, Any]]]:
    found: list[tuple[int, int, Operation, Parameter, dict[str, Any]]] = []
    for op in ctx.operations("GET"):
        if ctx.is_admin_operation(op):
            continue
        for param in op.parameters:
            if param.param_in not in ("query", "path"):
                continue
            schema = inline(ctx.doc, param.schema) if param.schema else {}
            if schema.get("type", "string") != "string" or "enum" in schema:
                continue
            if schema.get("format") not in (None, "email", "idn-email", "regex"):
                continue
            has_pattern = isinstance(schema.get("pattern"), str)
            if has_pattern or _NAMES.search(param.name):
                found.append((0 if has_pattern else 1, len(found), op, param, schema))
    found.sort(key=lambda t: (t[0], t[1]))
    return [(op, p, s) for _, _, op, p, s in found[:_MAX_CANDIDATES]]


async def _measure(
    ctx: ScanContext, op: Operation, ident: Identity, param: Parameter, value: str
) -> tuple[float, Exchange | None]:
    """How long ``op`` takes with ``param`` = ``value`` (the timeout when it gave up)."""
    given = {param.name: value} if param.param_in == "path" else {}
    path = ctx.fill_path(op, given, ident)
    if path is None:
        return 0.0, None
    query, headers = ctx.parameters(op)
    if param.param_in == "query":
        query[param.name] = value
    answer = await ctx.send(
        op.method, path, ident, operation=op, params=query, headers=headers, timeout=_TIMEOUT
    )
    if answer.status == 0:
        return (_TIMEOUT, answer) if "Timeout" in (answer.error or "") else (0.0, None)
    return answer.elapsed, answer


async def _confirmed(
    ctx: ScanContext, op: Operation, ident: Identity, param: Parameter, normal: str, evil: str
) -> list[Exchange] | None:
    """Slow twice more against fresh baselines: the exchanges, or None."""
    out: list[Exchange] = []
    for _ in range(2):
        base, _answer = await _measure(ctx, op, ident, param, normal)
        slow, answer = await _measure(ctx, op, ident, param, evil)
        if answer is None or slow - base < _SLOW:
            return None
        out.append(answer)
    return out


@check(
    "redos",
    title="A regular expression can be made to backtrack for seconds (ReDoS)",
    category=Owasp.API4,
    cwe=1333,
    severity=Severity.MEDIUM,
    remediation=(
        "Use a linear-time regex engine (RE2, Rust regex) or patterns without nested or "
        "overlapping quantifiers, bound input length before matching, and put a time "
        "limit on matching."
    ),
    phase=Phase.NOISY,
)
async def redos(ctx: ScanContext) -> None:
    """Sends strings that make backtracking regexes blow up to pattern-checked parameters.

    Parameters with a ``pattern`` in the spec, or named like ``email``,
    ``regex``, ``search`` or ``q``, get inputs of growing length (12 to 26
    characters, then 8,000), each request capped at 3 s. Fires when an input is
    answered at least 0.6 s slower than a normal value, twice as slow as
    the same input at its fastest when shorter, and again twice against fresh
    baselines.
    """
    for op, param, schema in _candidates(ctx):
        ident = ctx.anonymous if ctx.is_public_operation(op) else next(iter(ctx.users()), None)
        if ident is None or ctx.client.remaining < 80:
            continue
        normal = str(ctx.values.value(schema, param.name))
        times = [(await _measure(ctx, op, ident, param, normal))[0] for _ in range(2)]
        base = min(times)
        issue = await _probe(ctx, op, ident, param, normal, base)
        if issue is not None:
            ctx.report(issue)


async def _probe(
    ctx: ScanContext, op: Operation, ident: Identity, param: Parameter, normal: str, base: float
) -> Issue | None:
    previous: dict[int, float] = {}
    for n in _LENGTHS:
        inputs = redos_inputs(n)
        # one length's inputs go together; a slow one is then confirmed alone
        timed = await asyncio.gather(*(_measure(ctx, op, ident, param, e) for e in inputs))
        suspects = []
        for i, (took, answer) in enumerate(timed):
            if answer is None:
                continue
            # against the fastest shorter try, not the last one: a shorter try that
            # a busy machine slowed down (and that then failed to confirm) must not
            # hide the real blow-up one step later
            fastest = previous.get(i, base)
            grew = took >= _GROWTH * max(fastest, 0.001)
            previous[i] = min(took, previous.get(i, took))
            if took - base >= _SLOW and grew:
                suspects.append((took, i, answer))
        for took, i, answer in sorted(suspects, key=lambda t: t[0]):
            evil = inputs[i]
            again = await _confirmed(ctx, op, ident, param, normal, evil)
            if again is None:
                continue
            return Issue(
                f"{op.key} took {took:.1f} s to answer a {len(evil)}-character {param.name} "
                f"({evil[:12]!r}…), against {base * 1000:.0f} ms for a normal value, and as "
                "long again twice: the parameter is matched by a backtracking regex",
                operation=op,
                exchanges=[answer, *again],
                identity=ident.name,
                confidence="firm",
                key=param.name,
            )
    return None
