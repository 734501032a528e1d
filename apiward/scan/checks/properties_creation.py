"""Mass assignment at creation: a new object (a sign-up, a product) born with privileges.

A creation's answer often echoes its body, so it proves nothing. The object is
looked up afterwards: by id through ``GET <collection>/{id}``, or in the
listings the crawl read (by the unique name or email the body carried). The
privileged properties tried are those the API's own objects of that
collection show (``admin``, ``role``, ``balance``) and the request schema does
not offer. The created object stays (there may be no way to delete it); the
issue names it.
"""

from __future__ import annotations

import re
from collections import Counter
from typing import Any

from apiward.core import Operation, Severity
from apiward.scan.check import Issue
from apiward.scan.checks.flows_automation import flow_of
from apiward.scan.checks.properties_targets import unwrap
from apiward.scan.checks.properties_values import escalated, field_kind, persisted
from apiward.scan.context import ScanContext
from apiward.scan.detect import mask
from apiward.scan.http import Exchange
from apiward.scan.identity import Identity
from apiward.scan.resources import singular
from apiward.scan.values import body_schema

__all__ = ["creation_issues"]

_MAX_FIELDS = 6
_MAX_LISTINGS = 3
_NOT_A_KIND = re.compile(r"^(v\d+(\.\d+)*|api|rest|public|me|self|current)$", re.I)
_UNIQUE = re.compile(r"apiward[._][a-z0-9]{6,}")  # the generator's unique names and emails
_ESCALATING = ("privilege", "money", "status")


def _kinds(path: str) -> list[str]:
    literal = [s for s in path.split("/") if s and not s.startswith("{")]
    return [singular(s) for s in literal if not _NOT_A_KIND.match(s)]


def _objects(data: Any, depth: int = 0) -> list[dict[str, Any]]:
    """The objects of an answer: itself, or the items of its (wrapped) list."""
    if isinstance(data, list):
        return [d for d in data[:200] if isinstance(d, dict)]
    if not isinstance(data, dict) or depth > 1:
        return []
    lists = [v for v in data.values() if isinstance(v, list)]
    if lists:
        return [o for v in lists for o in _objects(v, depth + 1)]
    inner = unwrap(data)
    return [inner] if inner else []


def _listings(ctx: ScanContext, op: Operation) -> list[tuple[Operation, str]]:
    """GET listings of the collection ``op`` adds to (by path), with who read them."""
    kinds = _kinds(op.path)
    if not kinds:
        return []
    signup = flow_of(op) == "sign-up"
    ops = {o.key: o for o in ctx.doc.operations}
    found = []
    for (key, who), answer in sorted(ctx.seen.items()):
        lop = ops.get(key)
        if lop is None or lop.method != "GET" or "{" in lop.path or not answer.ok:
            continue
        theirs = set(_kinds(lop.path))
        if (kinds[-1] in theirs) or (signup and theirs & set(kinds)):
            found.append((lop, who))
    return found[:_MAX_LISTINGS]


def _plan(ctx: ScanContext, op: Operation, declared: dict[str, Any]) -> dict[str, Any]:
    samples: dict[str, Counter[str]] = {}
    values: dict[tuple[str, str], Any] = {}
    for lop, who in _listings(ctx, op):
        for obj in _objects(ctx.seen[(lop.key, who)].json()):
            for name, value in obj.items():
                if name in declared or field_kind(name) not in _ESCALATING or value is None:
                    continue
                samples.setdefault(name, Counter())[repr(value)] += 1
                values[(name, repr(value))] = value
    plan: dict[str, Any] = {}
    for name, counts in samples.items():
        usual = values[(name, counts.most_common(1)[0][0])]  # an ordinary object's value
        value = escalated(ctx.values, name, usual, {})
        if value is not None and len(plan) < _MAX_FIELDS:
            plan[name] = value
    return plan


def _item_reader(ctx: ScanContext, op: Operation) -> tuple[Operation, str] | None:
    for reader in ctx.operations("GET"):
        rest = reader.path.removeprefix(op.path.rstrip("/") + "/")
        if rest != reader.path and re.fullmatch(r"\{[^/}]+\}", rest):
            return reader, rest[1:-1]
    return None


async def _find(
    ctx: ScanContext, op: Operation, caller: Identity, answer: Exchange, markers: set[str]
) -> tuple[Exchange, dict[str, Any]] | None:
    """The created object as the API now shows it, and the exchange that showed it."""
    created = unwrap(answer.json())
    reader = _item_reader(ctx, op)
    if reader is not None and created is not None:
        rop, name = reader
        ident = created.get(name, created.get("id"))
        if isinstance(ident, int | str) and not isinstance(ident, bool):
            read = await ctx.call(rop, caller, path_params={name: ident})
            obj = unwrap(read.json()) if read is not None and read.ok else None
            if read is not None and obj is not None:
                return read, obj
    for lop, who in _listings(ctx, op):
        if not markers:
            break
        query, headers = ctx.parameters(lop)
        read = await ctx.send(
            "GET", lop.path, ctx.identity(who), operation=lop, params=query, headers=headers
        )
        for obj in _objects(read.json()) if read.ok else []:
            if markers & {v for v in obj.values() if isinstance(v, str)}:
                return read, obj
    return None


async def creation_issues(ctx: ScanContext, *, skip: set[str]) -> list[Issue]:
    """Create one object per creation operation with privileged properties; report what stuck.

    ``skip``: operations already probed as updates of an object.
    """
    issues = []
    for op in ctx.operations("POST"):
        if op.key in skip:
            continue
        last = [s for s in op.path.split("/") if s][-1:] or ["{"]
        if last[0].startswith("{") or ctx.is_login_operation(op) or ctx.is_admin_operation(op):
            continue
        if flow_of(op) == "money movement":
            continue
        found = body_schema(ctx.doc, op)
        if found is None or "json" not in found[0]:
            continue
        declared = found[1].get("properties") or {}
        plan = _plan(ctx, op, declared)
        caller = ctx.anonymous if ctx.is_public_operation(op) else next(iter(ctx.users()), None)
        body = ctx.values.request_value(found[1])
        if not plan or caller is None or not isinstance(body, dict):
            continue
        body.update(plan)
        markers = {v for v in body.values() if isinstance(v, str) and _UNIQUE.search(v)}
        answer = await ctx.call(op, caller, body=body)
        if answer is None or not answer.ok:
            continue
        shown = await _find(ctx, op, caller, answer, markers)
        if shown is None:
            continue
        read, obj = shown
        kept = {k: v for k, v in plan.items() if persisted(obj.get(k), v)}
        if kept:
            kinds = {field_kind(k) for k in kept}
            name = next(iter(sorted(markers)), None)
            changes = mask(", ".join(f"{k}: {v!r}" for k, v in kept.items()))
            issues.append(
                Issue(
                    f"{caller.name} created an object through {op.key} with {changes}, and "
                    f"{read.operation or 'reading it back'} shows it so"
                    + (f" (the scan's object {name} is left in place)" if name else ""),
                    operation=op,
                    exchanges=[answer, read],
                    identity=caller.name,
                    confidence="certain",
                    key="creation",
                    severity=Severity.CRITICAL if "privilege" in kinds else None,
                    notes=["the creation with the extra properties", "the object read back"],
                )
            )
    return issues
