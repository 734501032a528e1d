"""API3 mass assignment: an update that also sets properties the client must not set.

The check works on the caller's own objects only. It reads the object, adds to
an otherwise no-op update the properties the object shows but the request
schema does not offer (or marks read-only), with a plausible, different value
(``role`` -> ``admin``, ``is_admin`` -> true, ``balance`` -> current + 1000),
reads the object back and reports only what persisted. It then writes the
original values back.
"""

from __future__ import annotations

import contextlib
from typing import Any

from apiward.core import Owasp, Severity
from apiward.scan.check import Issue, Phase, check
from apiward.scan.checks.properties_creation import creation_issues
from apiward.scan.checks.properties_targets import OwnTarget, candidates, read_view
from apiward.scan.checks.properties_values import escalated, field_kind, persisted
from apiward.scan.context import ScanContext
from apiward.scan.detect import mask
from apiward.scan.http import Exchange
from apiward.scan.identity import Identity
from apiward.scan.resources import kind_of_path
from apiward.scan.values_schema import equal

_MAX_FIELDS = 8
_MAX_SINGLE = 4
_OWNER_PROBES = 2


def _plan(ctx: ScanContext, target: OwnTarget, view: dict[str, Any]) -> dict[str, Any]:
    """Properties to add (name -> value), privileged ones first; ownership is probed apart."""
    declared = target.schema.get("properties") or {}
    shown = target.view_schema.get("properties") or {}
    order = {"privilege": 0, "money": 1, "status": 2, "other": 3}
    found: list[tuple[int, str, Any]] = []
    for name, current in view.items():
        kind = field_kind(name)
        if kind in ("never", "owner") or current is None:
            continue
        writable = isinstance(declared.get(name), dict) and not declared[name].get("readOnly")
        read_only = isinstance(shown.get(name), dict) and shown[name].get("readOnly")
        if writable and not read_only:
            continue  # the contract offers it: changing it is the feature, not a flaw
        sub = shown.get(name)
        schema: dict[str, Any] = sub if isinstance(sub, dict) else {}
        value = escalated(ctx.values, name, current, schema)
        if value is not None:
            found.append((order[kind], name, value))
    found.sort(key=lambda t: t[0])
    return {name: value for _, name, value in found[:_MAX_FIELDS]}


async def _write(
    ctx: ScanContext, target: OwnTarget, body: dict[str, Any], as_: Identity | None = None
) -> Exchange:
    return await ctx.send(
        target.op.method, target.path, as_ or target.identity, operation=target.op,
        json_body=body,
    )  # fmt: skip


async def _try(
    ctx: ScanContext,
    target: OwnTarget,
    base: dict[str, Any],
    plan: dict[str, Any],
    before: dict[str, Any],
) -> tuple[dict[str, Any], set[str], list[Exchange]]:
    """Send ``plan`` on top of ``base``: what persisted, what changed at all, the exchanges."""
    write = await _write(ctx, target, {**base, **plan})
    if not write.ok:
        return {}, set(), [write]
    read, view = await read_view(ctx, target)
    if view is None:
        return {}, set(plan), [write]  # unknown: put everything back to be sure
    kept = {k: v for k, v in plan.items() if persisted(view.get(k), v)}
    changed = {k for k in plan if not equal(view.get(k), before.get(k))}
    return kept, changed, [write, read]


def _other_owner(
    ctx: ScanContext, target: OwnTarget, name: str, current: Any
) -> tuple[Any, Identity] | None:
    """Another ordinary user's value for ownership field ``name``, from objects of the same kind."""
    kind = kind_of_path(target.path)
    for other in ctx.users():
        if other.name == target.identity.name:
            continue
        for res in ctx.pool.owner_view(kind or "", other.name):
            value = res.fields.get(name)
            if value is not None and not equal(value, current) and type(value) is type(current):
                return value, other
    return None


async def _owner_probe(
    ctx: ScanContext, target: OwnTarget, base: dict[str, Any], view: dict[str, Any]
) -> tuple[dict[str, Any], list[Exchange], bool]:
    """Hand the object to another user by its ownership field; restore as whoever holds it."""
    declared = target.schema.get("properties") or {}
    for name in [n for n in view if field_kind(n) == "owner" and n not in declared][:_OWNER_PROBES]:
        other = _other_owner(ctx, target, name, view[name])
        if other is None:
            continue
        value, new_owner = other
        write = await _write(ctx, target, {**base, name: value})
        if not write.ok:
            continue
        for reader in (target.identity, new_owner):
            read, seen = await read_view(ctx, target, reader)
            if seen is not None and persisted(seen.get(name), value):
                back = await _write(ctx, target, {**base, name: view[name]}, reader)
                return {name: value}, [write, read], back.ok
    return {}, [], True


@check(
    "mass-assignment",
    title="Clients can set properties they must not (mass assignment)",
    category=Owasp.API3,
    cwe=915,
    severity=Severity.HIGH,
    remediation=(
        "Bind request bodies to an explicit allow-list of client-writable properties (a "
        "dedicated input model per operation); reject or ignore the others, and never copy "
        "a body onto a stored record as a whole."
    ),
    phase=Phase.WRITE,
)
async def mass_assignment(ctx: ScanContext) -> None:
    """Adds privileged or read-only properties to updates of the caller's own objects.

    For each PUT/PATCH (or POST on an object) an ordinary user may call on an
    object of their own, the object is read, then updated with its current
    values plus properties it shows that the request schema does not offer or
    marks read-only: ``role`` -> ``admin``, ``is_admin`` -> true, ``balance`` ->
    current + 1000, ``status`` -> ``approved``, ownership ids -> another user's.
    The object is read back; fires only for values that persisted, which are
    then written back to their originals.
    """
    updated: set[str] = set()
    for target in candidates(ctx, ("PUT", "PATCH", "POST")):
        read, view = await read_view(ctx, target)
        if view is None:
            continue
        updated.add(target.op.key)
        base = target.base_body(view, ctx.values)
        plan = _plan(ctx, target, view)
        kept: dict[str, Any] = {}
        changed: set[str] = set()
        exchanges: list[Exchange] = []
        try:
            if plan:
                kept, changed, exchanges = await _try(ctx, target, base, plan, view)
                if not kept and exchanges and not exchanges[0].ok:
                    # one field the API rejects (a format, a type) must not hide the others
                    for name in list(plan)[:_MAX_SINGLE]:
                        kept, changed, exchanges = await _try(
                            ctx, target, base, {name: plan[name]}, view
                        )
                        if kept or changed:
                            break
        except BaseException:
            # interrupted (Ctrl-C, a spent budget) between the write and its undo: put
            # back every planned field, so the identity is not left an admin
            with contextlib.suppress(Exception):
                await _write(ctx, target, {**base, **{k: view[k] for k in plan if k in view}})
            raise
        restored = True
        if changed:
            back = await _write(ctx, target, {**base, **{k: view[k] for k in changed}})
            restored = back.ok
        owned, owner_exchanges, owner_restored = await _owner_probe(ctx, target, base, view)
        if owned and not kept:
            exchanges = owner_exchanges
        kept.update(owned)
        restored = restored and owner_restored
        if kept:
            ctx.report(_issue(target, view, kept, [*exchanges, read][:3], restored))
    for issue in await creation_issues(ctx, skip=updated):
        ctx.report(issue)


def _severity(kinds: set[str]) -> Severity | None:
    if kinds & {"privilege", "owner"}:
        return Severity.CRITICAL
    # properties the contract does not mention but the API stores: drift more than escalation
    return None if kinds & {"money", "status"} else Severity.MEDIUM


def _issue(
    target: OwnTarget,
    view: dict[str, Any],
    kept: dict[str, Any],
    exchanges: list[Exchange],
    restored: bool,
) -> Issue:
    changes = mask(", ".join(f"{k}: {view[k]!r} -> {v!r}" for k, v in kept.items()))
    who = target.identity.name
    kinds = {field_kind(k) for k in kept}
    return Issue(
        f"{who} set {changes} on their own object through {target.op.key}; reading it back "
        f"({target.reader.key}) shows the new value{'s' if len(kept) > 1 else ''}"
        + ("" if restored else " (the original values could not be written back)"),
        operation=target.op,
        exchanges=exchanges,
        identity=who,
        confidence="certain",
        severity=_severity(kinds),
        notes=["the update with the extra properties", "the object read back afterwards",
               "the object before the update"],
    )  # fmt: skip
