"""NoSQL injection: query operators (``$ne``, ``$eq``) accepted where a value belongs.

A string input gets a value that matches nothing, then the operator object
``{"$ne": that value}`` (``name[$ne]=value`` in a query string), which matches
everything, then ``{"$eq": that value}``, which again matches nothing. Only a
database that honours the operators answers the three like that: ``$ne`` opens
a door the plain value did not (an error becomes a success, a list grows) and
``$eq`` closes it again. Login operations get the operators in every field at
once: an authentication bypass.
"""

from __future__ import annotations

import asyncio
import re
import secrets
from typing import Any

from apiward.core import Operation, Owasp, Severity
from apiward.scan.check import Issue, Phase, check
from apiward.scan.checks.injection_points import (
    Point,
    Target,
    fingerprint,
    inject,
    point_issue,
    points,
    targets,
)
from apiward.scan.context import ScanContext
from apiward.scan.http import Exchange
from apiward.scan.values import body_schema

__all__: list[str] = []

_MAX_POINTS = 3
_RANK = re.compile(r"user|name|email|login|id$|search|query|^q$|filter|where|find|code", re.I)
_LOGIN = re.compile(r"log-?in|sign-?in|authenticate", re.I)


def _items(node: Any, depth: int = 0) -> int:
    """How many objects the answer lists (array lengths, two levels deep)."""
    if isinstance(node, list):
        return len(node) + sum(_items(v, depth + 1) for v in node[:50] if depth < 2)
    if isinstance(node, dict) and depth < 2:
        return sum(_items(v, depth + 1) for v in node.values())
    return 0


def _opened(more: Exchange | None, plain: Exchange) -> bool:
    """``more`` let the caller further than ``plain``: a refusal became a success, or more items."""
    if more is None or not more.ok:
        return False
    if 400 <= plain.status < 500:
        return True
    return plain.ok and _items(more.json()) > _items(plain.json())


async def _operator(
    ctx: ScanContext, target: Target, point: Point, operator: str, value: str
) -> Exchange | None:
    if point.place == "query":
        return await inject(ctx, target, point, value, key=f"{point.name}[{operator}]")
    return await inject(ctx, target, point, {operator: value})


async def _point(ctx: ScanContext, target: Target, point: Point) -> list[Exchange] | None:
    nothing = f"apiward-{secrets.token_hex(6)}"
    plain = await inject(ctx, target, point, nothing)
    if plain is None:
        return None
    widened = await _operator(ctx, target, point, "$ne", nothing)
    if not _opened(widened, plain):
        return None
    narrowed = await _operator(ctx, target, point, "$eq", nothing)
    if narrowed is None or fingerprint(narrowed) != fingerprint(plain):
        return None  # the API ignores the object (or the parameter) rather than obeying it
    again = await _operator(ctx, target, point, "$ne", f"apiward-{secrets.token_hex(6)}")
    if not _opened(again, plain):
        return None
    assert widened is not None
    return [widened, plain, narrowed]


async def _one(ctx: ScanContext, target: Target) -> None:
    candidates = [p for p in points(ctx, target.op, rank=_RANK) if p.place != "path"]
    for point in candidates[:_MAX_POINTS]:
        proof = await _point(ctx, target, point)
        if proof is not None:
            ctx.report(
                point_issue(
                    target,
                    point,
                    f"{target.op.key} passes query operators in {point.label} to the "
                    f"database: {{'$ne': x}} returns what x does not, {{'$eq': x}} does not",
                    proof,
                    notes=["with $ne", "with the plain value", "with $eq"],
                )
            )
            return


def _login_ops(ctx: ScanContext) -> list[Operation]:
    return [
        op
        for op in ctx.operations("POST")
        if ctx.is_login_operation(op) or _LOGIN.search(f"{op.path} {op.operation_id or ''}")
    ]


async def _login_bypass(ctx: ScanContext, op: Operation) -> None:
    """All string fields of the login body as operators, sent anonymously: 3 requests at most."""
    found = body_schema(ctx.doc, op)
    if found is None or "json" not in found[0]:
        return
    props = found[1].get("properties") or {}
    fields = [k for k, s in props.items() if isinstance(s, dict) and s.get("type") == "string"]
    if not fields:
        return
    path = ctx.fill_path(op, {}, ctx.anonymous)
    if path is None:
        return
    nothing = f"apiward-{secrets.token_hex(6)}"

    async def send(value: Any) -> Exchange:
        body = {k: value for k in fields}
        return await ctx.send(op.method, path, operation=op, json_body=body, credentials=False)

    plain = await send(nothing)
    if not 400 <= plain.status < 500:
        return
    widened = await send({"$ne": nothing})
    if not widened.ok:
        return
    narrowed = await send({"$eq": nothing})
    if narrowed.status != plain.status:
        return
    ctx.report(
        Issue(
            f"{op.key} logs in with {{'$ne': x}} as {', '.join(fields)}: an authentication "
            "bypass through query operators",
            operation=op,
            exchanges=[widened, plain, narrowed],
            confidence="certain",
            severity=Severity.CRITICAL,
            key="login",
            notes=["with $ne", "with plain values", "with $eq"],
        )
    )


@check(
    "nosql-injection",
    title="Query operators in input reach the database (NoSQL injection)",
    category=Owasp.API8,
    cwe=943,
    severity=Severity.HIGH,
    remediation=(
        "Accept only the type the schema declares (a string is never an object), reject keys "
        "starting with '$' or containing '.', and build queries with explicit $eq."
    ),
    phase=Phase.WRITE,
)
async def nosql_injection(ctx: ScanContext) -> None:
    """Sends ``{"$ne": x}`` / ``name[$ne]=x`` where a string belongs, against plain ``x`` and
    ``{"$eq": x}``, x matching nothing.

    Fires when ``$ne`` turns a refusal into a success or returns more items, twice,
    while ``$eq`` answers like the plain value: the database evaluated the
    operator. Login operations get the operators in every field (three anonymous
    requests, no real account involved): fires on a successful login.
    """
    # an operator in an update could widen the update's filter to every document
    ops = [op for op in ctx.operations("GET", "POST") if points(ctx, op)]
    found = await targets(ctx, ops)
    await asyncio.gather(
        *(_one(ctx, t) for t in found), *(_login_bypass(ctx, op) for op in _login_ops(ctx))
    )
