"""API4: a page-size parameter taken as given, so one request can ask for every row.

A proof needs either more items than the cap the spec declares, or an answer
that reports the huge size as the one it used. A user with few objects cannot
show the first, so the second is what usually decides; an API that clamps the
size silently (and says nothing) is given the benefit of the doubt.
"""

from __future__ import annotations

import re
from typing import Any

from apiward.core import Operation, Owasp, Parameter, Severity
from apiward.scan.check import Issue, check
from apiward.scan.context import ScanContext
from apiward.scan.http import Exchange
from apiward.scan.identity import Identity
from apiward.scan.values import inline
from apiward.scan.values_schema import is_num

_HUGE = 100_000
_MANY = 1000  # more items than this in one answer is no page at all
_NAMES = frozenset(
    {
        "limit", "size", "pagesize", "perpage", "count", "top", "max", "first", "take",
        "maxresults", "pagelimit", "maxitems", "rows", "resultsperpage", "itemsperpage",
        "maxrecords", "numresults", "last",
    }
)  # fmt: skip
_ECHO_DEPTH = 2


def _norm(name: str) -> str:
    return re.sub(r"[^a-z]", "", name.lower())


def _size_params(ctx: ScanContext, op: Operation) -> list[tuple[Parameter, dict[str, Any]]]:
    out = []
    for param in op.parameters:
        if param.param_in != "query" or _norm(param.name) not in _NAMES:
            continue
        schema = inline(ctx.doc, param.schema) if param.schema else {}
        kind = schema.get("type", "integer")
        if isinstance(kind, list):
            kind = next((k for k in kind if k != "null"), "integer")
        if kind not in ("integer", "number", "string") or "enum" in schema:
            continue
        out.append((param, schema))
    return out


def _items(data: Any, depth: int = 0) -> int:
    """How many objects the answer holds: its longest array, looked for two levels down."""
    if isinstance(data, list):
        return len(data)
    if isinstance(data, dict) and depth < _ECHO_DEPTH:
        return max((_items(v, depth + 1) for v in data.values()), default=0)
    return 0


def _echo(answer: Exchange, name: str, huge: int) -> str | None:
    """Where the answer reports the page size ``huge`` back (a field or a header)."""
    wanted = {_norm(name)} | _NAMES
    for key, value in answer.headers.items():
        if value.strip() == str(huge) and any(w in _norm(key) for w in wanted):
            return f"header {key}"
    stack: list[tuple[str, Any, int]] = [("", answer.json(), 0)]
    while stack:
        where, node, depth = stack.pop()
        if not isinstance(node, dict) or depth > _ECHO_DEPTH:
            continue
        for key, value in node.items():
            path = f"{where}.{key}" if where else key
            if _norm(key) in wanted and str(value) == str(huge) and not isinstance(value, bool):
                return f"field {path}"
            stack.append((path, value, depth + 1))
    return None


def _callers(ctx: ScanContext, op: Operation) -> list[Identity]:
    if ctx.is_admin_operation(op):
        return ctx.admins()
    people = ctx.users() + ctx.admins()
    return [*people, ctx.anonymous] if ctx.is_public_operation(op) else people


@check(
    "page-size-unbounded",
    title="Page size is not capped",
    category=Owasp.API4,
    cwe=770,
    severity=Severity.MEDIUM,
    remediation=(
        "Cap page sizes on the server (reject, or clamp to, a documented maximum such as "
        "100), declare the maximum in the spec, and paginate everything that lists."
    ),
)
async def page_size_unbounded(ctx: ScanContext) -> None:
    """Asks listings for a page of 100,000 items (beyond any maximum the spec declares).

    Looks at query parameters named like a page size (``limit``, ``size``,
    ``per_page``, ``pageSize``, ``top``, ``first``...). Fires when the API
    answers 2xx and returns more items than the declared maximum (or more than
    1,000), or reports the huge size back as the one it used; quiet when it
    rejects the value or silently serves a normal page.
    """
    for op in ctx.operations("GET"):
        params = _size_params(ctx, op)
        if not params:
            continue
        callers = _callers(ctx, op)
        seen = [(ctx.seen.get((op.key, i.name)), i) for i in callers]
        ranked = sorted(
            (_items(a.json()) if a is not None and a.ok else -1, n, i)
            for n, (a, i) in enumerate(seen)
        )  # the caller with the most objects shows the most
        if not ranked or ranked[-1][0] < 0:
            continue
        base_items, _, ident = ranked[-1]
        for param, schema in params:
            issue = await _probe(ctx, op, ident, param, schema, base_items)
            if issue is not None:
                ctx.report(issue)
                break


async def _probe(
    ctx: ScanContext,
    op: Operation,
    ident: Identity,
    param: Parameter,
    schema: dict[str, Any],
    base_items: int,
) -> Issue | None:
    maximum = schema.get("maximum")
    declared: float | None = float(maximum) if is_num(maximum) else None
    answer = await ctx.call(op, ident, query={param.name: _HUGE})
    if answer is None or not answer.ok:
        return None
    items = _items(answer.json())
    echo = _echo(answer, param.name, _HUGE)
    beyond = declared is not None and declared < _HUGE
    facts = []
    confidence = "firm"
    if declared is not None and beyond and items > declared:
        facts.append(f"returned {items} items, more than the declared maximum {declared:g}")
        confidence = "certain"
    elif items > max(_MANY, base_items):
        facts.append(f"returned {items} items in one page")
        confidence = "certain"
    elif answer.truncated:
        facts.append("answered with more than 1 MiB")
    if echo is not None:
        facts.append(f"reports page size {_HUGE} in its {echo}")
    if not facts:
        return None  # a normal page: capped silently, or too few objects to tell
    limit_note = (
        f" (the spec allows at most {declared:g})"
        if beyond and declared is not None
        else " (the spec declares no maximum)"
        if declared is None
        else ""
    )
    return Issue(
        f"{op.key} accepted {param.name}={_HUGE}{limit_note} with {answer.status} and "
        + " and ".join(facts),
        operation=op,
        exchanges=[answer],
        identity=ident.name,
        confidence=confidence,
        key=param.name,
    )
