"""API1 BOLA: one user reading or changing another user's objects.

The crawl knows who owns what (each user's own listings and creations); an
object only one ordinary user owns is private to that user. These checks ask
for such objects as another user. Operations the spec leaves open to anonymous
callers, or that the config lists as public, are meant to be shared and are
skipped, as are objects that two users both list.
"""

from __future__ import annotations

import re
import secrets
from typing import Any

from apiward.core import Operation, Owasp, Severity
from apiward.scan.check import Issue, Phase, check
from apiward.scan.context import UNSET, ScanContext
from apiward.scan.http import Exchange
from apiward.scan.identity import Identity
from apiward.scan.resources import Resource, kind_of_field
from apiward.scan.values import body_schema

_VICTIMS_PER_OPERATION = 3
# fields naming where something goes: pointing them at others' objects is the point
_DESTINATION = re.compile(
    r"(^|_)(to|dest|destination|target|recipient|payee|beneficiary|receiver)(_|$)|^to[A-Z]", re.I
)
_SMALL_NUMBERS = ("amount", "quantity", "qty", "count", "value", "price", "total", "sum")

_REMEDIATION = (
    "Check on every request that the object belongs to (or is shared with) the caller, in "
    "the data layer: look objects up by id AND owner, and answer 404 for others' objects."
)


def _path_params(op: Operation) -> list[str]:
    return [p.name for p in op.parameters if p.param_in == "path"]


def _owner(ctx: ScanContext, res: Resource) -> Identity | None:
    owners = sorted(res.owners - ctx.pool.admins)
    return ctx.identity(owners[0]) if owners else None


def _holds(answer: Exchange, res: Resource, value: Any) -> bool:
    """The answer is the victim's object: its JSON carries the object's identifying value."""
    data = answer.json()
    ident = res.identifier()
    wanted = {value} | ({ident[1]} if ident else set())
    stack = [data]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            if any(v in wanted for v in node.values() if isinstance(v, int | str)):
                return True
            stack.extend(v for v in node.values() if isinstance(v, dict | list))
        elif isinstance(node, list):
            stack.extend(node[:50])
    return False


async def _foreign_calls(
    ctx: ScanContext, op: Operation, body: Any = UNSET
) -> tuple[Identity, Identity, Resource, Any, Exchange] | None:
    """The first request for another user's object that ``op`` answers with it."""
    params = _path_params(op)
    if not params or ctx.is_public_operation(op) or ctx.is_admin_operation(op):
        return None  # admin operations are function-level (BFLA) checks' business
    target = params[-1]
    for attacker in ctx.users():
        for res, value in ctx.victims(op, target, attacker)[:_VICTIMS_PER_OPERATION]:
            owner = _owner(ctx, res)
            if owner is None:
                continue
            payload = body(res) if callable(body) else body
            answer = await ctx.call(
                op, attacker, path_params={target: value}, owner=owner, body=payload
            )
            if (
                answer is not None
                and answer.ok
                and (op.method != "GET" or _holds(answer, res, value))
            ):
                return attacker, owner, res, value, answer
    return None


@check(
    "bola-read",
    title="A user can read another user's object",
    category=Owasp.API1,
    cwe=639,
    severity=Severity.HIGH,
    remediation=_REMEDIATION,
)
async def bola_read(ctx: ScanContext) -> None:
    """Reads each private object (owned by one ordinary user) as every other user.

    Fires when the answer is 2xx and carries the object's id: the API looked the
    object up by id alone.
    """
    for op in ctx.operations("GET"):
        found = await _foreign_calls(ctx, op)
        if found is None:
            continue
        attacker, owner, res, value, answer = found
        ctx.report(
            Issue(
                f"{attacker.name} read {owner.name}'s {res.kind} {value} through {op.key}",
                operation=op,
                exchanges=[answer],
                identity=attacker.name,
                confidence="certain",
            )
        )


@check(
    "bola-write",
    title="A user can change another user's object",
    category=Owasp.API1,
    cwe=639,
    severity=Severity.CRITICAL,
    remediation=_REMEDIATION,
    phase=Phase.WRITE,
)
async def bola_write(ctx: ScanContext) -> None:
    """Updates each private object as another user with the owner's own values.

    The update writes back what the owner already has (or a marker in one text
    field, read back as the owner and then restored), so no data is lost. Fires
    when the API accepts the write.
    """
    for op in ctx.operations("PUT", "PATCH"):
        found = body_schema(ctx.doc, op)
        schema = found[1] if found else {}

        def same_values(res: Resource, schema: dict[str, Any] = schema) -> Any:
            body = ctx.values.request_value(schema) if schema else UNSET
            if isinstance(body, dict):
                for key in list(body):
                    if key in res.fields:
                        body[key] = res.fields[key]
            return body

        hit = await _foreign_calls(ctx, op, body=same_values)
        if hit is None:
            continue
        attacker, owner, res, value, answer = hit
        exchanges = [answer]
        note = "the write was accepted"
        proof = await _marker_write(ctx, op, attacker, owner, res, value, schema)
        if proof is not None:
            exchanges = proof
            note = "the owner now reads the attacker's marker (restored afterwards)"
        ctx.report(
            Issue(
                f"{attacker.name} changed {owner.name}'s {res.kind} {value} through "
                f"{op.key}: {note}",
                operation=op,
                exchanges=exchanges,
                identity=attacker.name,
                confidence="certain" if proof else "firm",
            )
        )


async def _marker_write(
    ctx: ScanContext,
    op: Operation,
    attacker: Identity,
    owner: Identity,
    res: Resource,
    value: Any,
    schema: dict[str, Any],
) -> list[Exchange] | None:
    """Write a marker into a text field as the attacker, read it as the owner, restore it."""
    props = schema.get("properties", {}) if isinstance(schema, dict) else {}
    marker = f"apiward-{secrets.token_hex(3)}"
    field = next(
        (
            k for k, s in props.items()
            if isinstance(s, dict) and _takes(s, marker) and isinstance(res.fields.get(k), str)
        ),
        None,
    )  # fmt: skip
    reader = next(
        (o for o in ctx.operations("GET") if o.path == op.path and not ctx.is_public_operation(o)),
        None,
    )
    if field is None or reader is None:
        return None
    target = _path_params(op)[-1]
    original = res.fields[field]
    write = await ctx.call(
        op, attacker, path_params={target: value}, owner=owner, body={field: marker}
    )
    if write is None or not write.ok:
        return None
    read = await ctx.call(reader, owner, path_params={target: value})
    await ctx.call(op, owner, path_params={target: value}, body={field: original})
    if read is not None and read.ok and marker in read.text:
        return [write, read]
    return None


@check(
    "bola-reference",
    title="A request can act on another user's object named in its body",
    category=Owasp.API1,
    cwe=639,
    severity=Severity.CRITICAL,
    remediation=_REMEDIATION,
    phase=Phase.WRITE,
)
async def bola_reference(ctx: ScanContext) -> None:
    """Sends requests whose body points at another user's object (``from_account``, ``order_id``).

    The other fields point at the caller's own objects and numbers are the
    smallest allowed, so the request is otherwise valid. Fires when the API
    accepts it: the referenced object's owner was never checked.
    """
    kinds = ctx.pool.kinds
    for op in ctx.operations("POST", "PUT", "PATCH"):
        found = body_schema(ctx.doc, op)
        if found is None or ctx.is_public_operation(op) or ctx.sensitivity(op).auth_flow:
            continue
        if ctx.is_admin_operation(op):
            continue
        props = found[1].get("properties", {})
        refs = {
            name: kind
            for name in props
            if (kind := kind_of_field(name, kinds)) and not _DESTINATION.search(name)
        }
        if not refs:
            continue
        hit = await _reference_attack(ctx, op, found[1], refs)
        if hit is not None:
            ctx.report(hit)


async def _reference_attack(
    ctx: ScanContext, op: Operation, schema: dict[str, Any], refs: dict[str, str]
) -> Issue | None:
    for attacker in ctx.users():
        own = {name: _own_id(ctx, kind, attacker) for name, kind in refs.items()}
        for name, kind in refs.items():
            for res in ctx.pool.others(kind, attacker.name)[:_VICTIMS_PER_OPERATION]:
                value = ctx.pool.value(res, "id")
                owner = _owner(ctx, res)
                if value is None or owner is None:
                    continue
                body = ctx.values.request_value(schema)
                if not isinstance(body, dict):
                    return None
                _smallest_numbers(body, schema)
                body.update({k: v for k, v in own.items() if v is not None and k != name})
                body[name] = value
                path = ctx.fill_path(op, {}, attacker)
                if path is None:
                    break
                answer = await ctx.send(op.method, path, attacker, operation=op, json_body=body)
                if answer.ok:
                    return Issue(
                        f"{attacker.name} used {owner.name}'s {kind} {value} as {name!r} in "
                        f"{op.key}, and the API accepted it",
                        operation=op,
                        exchanges=[answer],
                        identity=attacker.name,
                        key=name,
                        confidence="certain",
                    )
    return None


def _takes(schema: dict[str, Any], text: str) -> bool:
    """A plain text property that accepts ``text``."""
    if schema.get("type") != "string" or "format" in schema or "enum" in schema:
        return False
    if schema.get("readOnly") or len(text) > schema.get("maxLength", 1 << 30):
        return False
    pattern = schema.get("pattern")
    try:
        return pattern is None or re.search(pattern, text) is not None
    except (re.error, TypeError):
        return False


def _own_id(ctx: ScanContext, kind: str, ident: Identity) -> Any:
    for res in ctx.pool.owner_view(kind, ident.name):
        value = ctx.pool.value(res, "id")
        if value is not None:
            return value
    return None


def _smallest_numbers(body: dict[str, Any], schema: dict[str, Any]) -> None:
    for key, sub in schema.get("properties", {}).items():
        if not isinstance(sub, dict) or sub.get("type") not in ("number", "integer"):
            continue
        if key in body and any(word in key.lower() for word in _SMALL_NUMBERS):
            low = sub.get("minimum", sub.get("exclusiveMinimum", 0))
            low = low if isinstance(low, int | float) and not isinstance(low, bool) else 0
            body[key] = max(1, int(low) + 1) if sub.get("type") == "integer" else max(1.0, low + 1)
