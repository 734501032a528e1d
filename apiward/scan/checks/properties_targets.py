"""Writes a user may make to their own objects, with a way to read the object back.

Shared by the checks that change a property on purpose (mass assignment, body
size): they need an update operation (PUT/PATCH, or POST on an object), the
path of an object the caller owns, the object's current readable view, and a
minimal body that leaves everything else as it is. Credential, admin and
auth-flow operations are never targets: the scanner must not change or lock
the identities it uses.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from apiward.core import Operation
from apiward.scan.context import ScanContext
from apiward.scan.http import Exchange
from apiward.scan.identity import Identity
from apiward.scan.resources import kind_of_param
from apiward.scan.values import ValueGenerator, body_schema, response_schema

__all__ = ["OwnTarget", "candidates", "read_view", "unwrap"]

_WRAPPERS = ("data", "result", "item", "user", "account", "profile", "record")
_PAGES = ("items", "data", "results", "content", "records", "rows", "entries", "list", "value")


@dataclass(slots=True)
class OwnTarget:
    """An update ``op`` of an object ``identity`` owns at ``path``, and how to read it."""

    op: Operation
    reader: Operation
    identity: Identity
    path: str
    schema: dict[str, Any]  # the request body schema, inlined
    view_schema: dict[str, Any]  # the reader's 200 schema, inlined ({} when none)

    def base_body(self, current: dict[str, Any], values: ValueGenerator) -> dict[str, Any]:
        """A body that changes nothing: required (PUT: all known) properties at current values.

        A required property the view does not show gets a generated valid value.
        """
        props = self.schema.get("properties") or {}
        required = [k for k in self.schema.get("required") or [] if isinstance(k, str)]
        keys = list(props) if self.op.method == "PUT" else required
        body: dict[str, Any] = {}
        for key in keys:
            if key in current:
                body[key] = current[key]
            elif key in required and isinstance(props.get(key), dict):
                body[key] = values.request_value(props[key], key)
        return body


def unwrap(data: Any) -> dict[str, Any] | None:
    """The object of a JSON answer: itself, or the one object under a wrapper key."""
    if not isinstance(data, dict):
        return None
    if len(data) == 1:
        ((key, inner),) = data.items()
        if key.lower() in _WRAPPERS and isinstance(inner, dict):
            return inner
    return data


async def read_view(
    ctx: ScanContext, target: OwnTarget, as_: Identity | None = None
) -> tuple[Exchange, dict[str, Any] | None]:
    """GET the object; its JSON view, or None when the answer is not a readable object."""
    answer = await ctx.send("GET", target.path, as_ or target.identity, operation=target.reader)
    if not answer.ok or answer.truncated:
        return answer, None
    view = unwrap(answer.json())
    if view is None or any(_is_listing(k, v) for k, v in view.items()):
        return answer, None  # a collection page: not one object
    return answer, view


def _is_listing(key: str, value: Any) -> bool:
    return key.lower() in _PAGES and isinstance(value, list)


def _own_path(ctx: ScanContext, op: Operation, ident: Identity) -> str | None:
    """The path with every parameter taken from an object ``ident`` owns (never a guess)."""
    given: dict[str, Any] = {}
    for param in op.parameters:
        if param.param_in != "path":
            continue
        kind = kind_of_param(op, param.name)
        value = None
        if kind is not None:
            for res in ctx.pool.owner_view(kind, ident.name):
                value = ctx.pool.value(res, param.name)
                if value is not None:
                    break
        if value is None:
            return None
        given[param.name] = value
    return ctx.fill_path(op, given, ident)


def candidates(
    ctx: ScanContext, methods: tuple[str, ...] = ("PUT", "PATCH"), *, prefer: int = 0
) -> Iterator[OwnTarget]:
    """Update operations an ordinary user may call on an object of their own.

    ``prefer`` picks which ordinary user is tried first (by index), so that two
    checks running at once can work on different users' objects.
    """
    users = ctx.users()
    if not users:
        return
    start = prefer % len(users)
    users = users[start:] + users[:start]
    readers = {op.path: op for op in ctx.operations("GET")}
    for op in ctx.operations(*methods):
        reader = readers.get(op.path)
        found = body_schema(ctx.doc, op)
        if reader is None or found is None or "json" not in found[0]:
            continue
        if ctx.is_admin_operation(op) or ctx.sensitivity(op).auth_flow:
            continue
        if ctx.is_login_operation(op):
            continue
        schema = found[1]
        if "object" not in str(schema.get("type", "object")):
            continue
        view_schema = response_schema(ctx.doc, reader, 200) or {}
        for ident in users:
            path = _own_path(ctx, op, ident)
            if path is not None:
                yield OwnTarget(op, reader, ident, path, schema, view_schema)
                break
