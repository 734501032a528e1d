"""Where the injection, SSRF and unsafe-consumption checks put their payloads.

A :class:`Point` is one string input of one operation: a query or path
parameter, or a field of its JSON body (one object level deep). :func:`points`
lists them, most promising first; :func:`caller` finds an identity the
operation answers (its security decides who is tried first) together with a
baseline answer; :func:`inject` sends the same request with one point's value
replaced. Comparing answers goes through :func:`fingerprint`, which leaves out
the payload the API may echo back and the scalar values that change between
two identical requests (timestamps, ids).
"""

from __future__ import annotations

import asyncio
import copy
import json
import re
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlsplit

from apiward.core import Operation, Severity
from apiward.scan.check import Issue
from apiward.scan.context import UNSET, ScanContext
from apiward.scan.http import Exchange
from apiward.scan.identity import Identity
from apiward.scan.values import body_schema, inline

__all__ = [
    "MIN_ALLOWANCE",
    "Allowance",
    "Point",
    "Target",
    "base_value",
    "caller",
    "delayed",
    "each_target",
    "fingerprint",
    "inject",
    "point_issue",
    "points",
    "targets",
    "writes_with_points",
]

# fields that hold credentials: changing them could lock the scan's own identities out
_CREDENTIAL = re.compile(r"passw|passphrase|secret|token|api_?key|otp|^pin$|captcha", re.I)
# fields that identify the caller: a PUT/PATCH on them changes who the identity is
_IDENTITY = re.compile(r"e?mail|user_?name|^login$|^username$", re.I)
_OPAQUE_FORMATS = frozenset(
    {"date", "date-time", "time", "duration", "uuid", "byte", "binary", "base64", "password"}
)
_DENIED = (401, 403)
_RESERVE = 20  # requests left for the rest of the scan, whatever the checks here want
#: Payload requests a check may send in all, whatever the budget.
MIN_ALLOWANCE = 300
_MAX_CALLERS = 3


@dataclass(frozen=True, slots=True)
class Point:
    """One string input: ``place`` is ``query``, ``path`` or ``body``; ``name`` is dotted for
    a nested body field."""

    op: Operation
    place: str
    name: str
    schema: dict[str, Any]

    @property
    def label(self) -> str:
        kind = {"query": "query parameter", "path": "path parameter"}.get(self.place, "field")
        return f"{kind} {self.name!r}"

    @property
    def leaf(self) -> str:
        return self.name.rsplit(".", 1)[-1]


@dataclass(slots=True)
class Allowance:
    """Requests one check may still spend on its payloads, shared by its targets."""

    left: int


@dataclass(slots=True)
class Target:
    """An operation the scan can call: who calls it, the body it sent, the answer it got.

    ``throttled`` is set once the API answers 429: probing it further would only
    burn the budget and the API's patience (and other checks' rate limits).
    """

    op: Operation
    identity: Identity
    body: Any
    baseline: Exchange
    throttled: bool = False
    allowance: Allowance = field(default_factory=lambda: Allowance(1 << 30))


def _string_schema(schema: dict[str, Any]) -> bool:
    kind = schema.get("type")
    kinds = kind if isinstance(kind, list) else [kind] if kind else []
    if kinds and "string" not in kinds:
        return False
    if not kinds and any(k in schema for k in ("properties", "items", "minimum", "maximum")):
        return False
    if "enum" in schema or "const" in schema or schema.get("readOnly"):
        return False
    return schema.get("format") not in _OPAQUE_FORMATS


def points(ctx: ScanContext, op: Operation, *, rank: re.Pattern[str] | None = None) -> list[Point]:
    """The string inputs of ``op`` worth a payload; those whose name matches ``rank`` first."""
    found: list[Point] = []
    for param in op.parameters:
        if param.param_in not in ("query", "path") or _CREDENTIAL.search(param.name):
            continue
        schema = inline(ctx.doc, param.schema) if param.schema else {"type": "string"}
        if _string_schema(schema):
            found.append(Point(op, param.param_in, param.name, schema))
    body = body_schema(ctx.doc, op)
    if body is not None and "json" in body[0]:
        found.extend(_body_points(op, body[1]))
    if rank is not None:
        found.sort(key=lambda p: rank.search(p.leaf) is None)
    return found


def _body_points(op: Operation, schema: dict[str, Any]) -> Iterable[Point]:
    changes_identity = op.method in ("PUT", "PATCH")

    def skip(name: str) -> bool:
        return bool(_CREDENTIAL.search(name) or (changes_identity and _IDENTITY.search(name)))

    for name, sub in (schema.get("properties") or {}).items():
        if not isinstance(sub, dict) or skip(name):
            continue
        if _string_schema(sub):
            yield Point(op, "body", name, sub)
        elif sub.get("type") == "object":
            for inner, leaf in (sub.get("properties") or {}).items():
                if isinstance(leaf, dict) and not skip(inner) and _string_schema(leaf):
                    yield Point(op, "body", f"{name}.{inner}", leaf)


def _fit_order(ctx: ScanContext, op: Operation) -> list[Identity]:
    """Identities likely to be let in by ``op``'s security, the most ordinary first."""
    schemes = ctx.doc.security_schemes
    wanted_query: set[str] = set()
    wanted_header: set[str] = set()
    anonymous_ok = not op.effective_security or any(r.is_anonymous for r in op.effective_security)
    for req in op.effective_security:
        for name in req.schemes:
            scheme = schemes.get(name)
            if scheme is not None and scheme.type == "apiKey" and scheme.param_name:
                target = wanted_query if scheme.param_in == "query" else wanted_header
                target.add(scheme.param_name.lower())
    admin_op = ctx.is_admin_operation(op)

    def score(ident: Identity) -> tuple[int, int]:
        fits = bool(
            wanted_query & {k.lower() for k in ident.query}
            or wanted_header & {k.lower() for k in ident.headers}
        )
        return (0 if fits else 1, 0 if ident.is_admin == admin_op else 1)

    ordered = sorted(ctx.authenticated(), key=score)
    return [ctx.anonymous, *ordered] if anonymous_ok else ordered


async def caller(ctx: ScanContext, op: Operation) -> Target | None:
    """Someone ``op`` lets in, with the body sent and the answer: the baseline to compare with.

    Tries at most three identities; None when every one is refused or a path
    parameter has no value.
    """
    for ident in _fit_order(ctx, op)[:_MAX_CALLERS]:
        body = ctx.body(op)
        answer = await ctx.call(op, ident, body=body)
        if answer is None:
            continue
        if answer.status not in _DENIED and answer.status != 0:
            return Target(op, ident, body, answer, throttled=answer.status == 429)
    return None


async def targets(
    ctx: ScanContext, ops: Sequence[Operation], *, include_auth: bool = False, share: int = 10
) -> list[Target]:
    """:func:`caller` for every operation that is not an auth flow (unless asked for).

    The targets share one :class:`Allowance`: a ``share`` of the scan's budget (at
    least :data:`MIN_ALLOWANCE`), so one check cannot spend what the others need on
    a large API.
    """
    wanted = [
        op
        for op in ops
        if include_auth or not (ctx.sensitivity(op).auth_flow or ctx.is_login_operation(op))
    ]
    allowance = Allowance(max(MIN_ALLOWANCE, ctx.client.budget // share))
    found = await asyncio.gather(*(caller(ctx, op) for op in wanted))
    for target in found:
        if target is not None:
            target.allowance = allowance
    return [t for t in found if t is not None]


def writes_with_points(ctx: ScanContext) -> list[Operation]:
    """The operations, DELETEs aside, with a string input worth a payload."""
    return [op for op in ctx.operations() if op.method != "DELETE" and points(ctx, op)]


async def each_target(
    ctx: ScanContext,
    ops: Sequence[Operation],
    probe: Callable[[ScanContext, Target], Awaitable[None]],
) -> None:
    """Runs ``probe`` on the :func:`targets` of ``ops``, all at once."""
    found = await targets(ctx, ops)
    await asyncio.gather(*(probe(ctx, t) for t in found))


def point_issue(
    target: Target,
    point: Point,
    message: str,
    exchanges: list[Exchange],
    *,
    confidence: str = "certain",
    severity: Severity | None = None,
    notes: Sequence[str] = (),
) -> Issue:
    """An issue about ``point`` of ``target``'s operation, as its identity called it."""
    return Issue(
        message,
        operation=target.op,
        exchanges=exchanges,
        identity=target.identity.name,
        confidence=confidence,
        severity=severity,
        key=point.name,
        notes=list(notes),
    )


def _set(body: Any, dotted: str, value: Any) -> Any:
    out = copy.deepcopy(body) if isinstance(body, dict) else {}
    node = out
    *parents, leaf = dotted.split(".")
    for key in parents:
        child = node.get(key)
        if not isinstance(child, dict):
            child = node[key] = {}
        node = child
    node[leaf] = value
    return out


def base_value(ctx: ScanContext, target: Target, point: Point) -> str:
    """The valid value ``point`` had in ``target``'s baseline request (or would have had)."""
    if point.place == "body" and isinstance(target.body, dict):
        node: Any = target.body
        for key in point.name.split("."):
            node = node.get(key) if isinstance(node, dict) else None
        if isinstance(node, str):
            return node
    elif point.place == "query":
        sent = parse_qs(urlsplit(target.baseline.url).query).get(point.name)
        if sent:
            return sent[0]
    elif point.place == "path":
        owned = ctx.path_value(target.op, point.name, target.identity)
        if owned is not None:
            return str(owned)
    value = ctx.values.value(point.schema, point.leaf)
    return value if isinstance(value, str) else str(value)


async def inject(
    ctx: ScanContext, target: Target, point: Point, value: Any, *, key: str | None = None
) -> Exchange | None:
    """``target``'s request again with ``point`` set to ``value``.

    None when a path parameter has no value, the API throttles ``target`` or the
    check's allowance is spent.
    ``key`` renames a query parameter (``q[$ne]`` for ``q``): the original is then not sent.
    """
    if target.throttled or target.allowance.left <= 0 or ctx.client.remaining <= _RESERVE:
        return None
    target.allowance.left -= 1
    answer = await _inject(ctx, target, point, value, key)
    if answer is not None and answer.status == 429:
        target.throttled = True
        return None
    return answer


async def _inject(
    ctx: ScanContext, target: Target, point: Point, value: Any, key: str | None
) -> Exchange | None:
    op, ident = target.op, target.identity
    if point.place == "path":
        return await ctx.call(op, ident, path_params={point.name: value}, body=target.body)
    if point.place == "query":
        if key is None:
            return await ctx.call(op, ident, query={point.name: value}, body=target.body)
        path = ctx.fill_path(op, {}, ident)
        if path is None:
            return None
        query, headers = ctx.parameters(op)
        query.pop(point.name, None)
        query[key] = value
        return await ctx.send(
            op.method, path, ident, operation=op, params=query, headers=headers,
            json_body=target.body,
        )  # fmt: skip
    body = _set(target.body if target.body is not UNSET else {}, point.name, value)
    return await ctx.call(op, ident, body=body)


def _shape(node: Any, depth: int = 0) -> Any:
    if depth > 6:
        return "…"
    if isinstance(node, dict):
        return tuple(sorted((str(k), _shape(v, depth + 1)) for k, v in node.items()))
    if isinstance(node, list):
        return ("list", len(node), _shape(node[0], depth + 1) if node else None)
    return type(node).__name__


def _without(text: str, drop: Iterable[str]) -> str:
    for piece in drop:
        if piece:
            for form in {piece, json.dumps(piece)[1:-1]}:
                text = text.replace(form, "")
    return text


def fingerprint(answer: Exchange, drop: Iterable[str] = ()) -> tuple[int, Any]:
    """What two answers must share to count as the same: status, then the JSON's shape (keys,
    types, list lengths) or else the text without the echoed ``drop`` strings."""
    data = answer.json()
    if data is not None:
        return answer.status, _shape(data)
    return answer.status, _without(answer.text, drop)


async def delayed(
    send: Callable[[float], Awaitable[Exchange | None]], delay: float = 2.0
) -> list[Exchange] | None:
    """Proof that ``send(seconds)`` makes the API wait that long: a ``delay`` answer is slow,
    a zero-delay one right after is fast, and a second ``delay`` answer is slow again.

    Cheap when the API does not wait: one fast answer ends it.
    """
    slow = delay * 0.9
    first = await send(delay)
    if first is None or first.status == 0 or first.elapsed < slow:
        return None
    control = await send(0)
    if control is None or control.status == 0 or control.elapsed >= delay / 2:
        return None
    second = await send(delay)
    if second is None or second.status == 0 or second.elapsed < slow:
        return None
    return [first, control, second]
