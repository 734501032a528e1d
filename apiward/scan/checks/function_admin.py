"""API5 BFLA: privileged functions that ordinary users (or anyone) can call.

An operation is privileged when the scan's context says so (``/admin`` paths,
admin tags or scopes, the config's ``admin-operations``) or when its own text
or role extensions do ("admins only", ``x-roles: [admin]``). Each is called as
every ordinary user and as anonymous, with a valid request. Reads fire on a
2xx that looks like the admin's own answer; writes are sent only when they
can be made a no-op: every field of the body is set to the value the target
object already has (re-read just before, through the admin's view), so nothing
changes even when the API lets the call through. Admin DELETEs are tried
last, in the destructive phase, on an object the caller owns itself.
"""

from __future__ import annotations

from typing import Any

from apiward.core import Operation, Owasp, Severity
from apiward.scan.check import Issue, Phase, check
from apiward.scan.checks.function_common import CREDENTIAL_KEY, disposable, privileged
from apiward.scan.context import ScanContext
from apiward.scan.http import Exchange
from apiward.scan.identity import Identity
from apiward.scan.resources import Resource, kind_of_param
from apiward.scan.values import body_schema
from apiward.scan.values_schema import fits

__all__ = ["admin_delete_exposed", "admin_function_exposed"]

_TARGETS_PER_OPERATION = 2
_REMEDIATION = (
    "Enforce the caller's role on the server for every privileged operation, with one "
    "deny-by-default authorization layer (not by hiding menus in the client)."
)


@check(
    "admin-function-exposed",
    title="An admin-only operation answers ordinary users",
    category=Owasp.API5,
    cwe=285,
    severity=Severity.HIGH,
    remediation=_REMEDIATION,
    phase=Phase.WRITE,
)
async def admin_function_exposed(ctx: ScanContext) -> None:
    """Calls each admin-only operation as every ordinary user and as anonymous.

    Reads are valid requests on objects from the admin's view; updates
    (PUT/PATCH/POST on an object) write back the values the object already has,
    so they change nothing. Fires when the operation answers 2xx (for reads:
    an answer shaped like the admin's own). DELETE operations, resets and
    writes that cannot be made a no-op are not sent.
    """
    for op in ctx.operations():
        if op.method == "DELETE" or not privileged(ctx, op) or ctx.is_login_operation(op):
            continue
        attackers = list(ctx.users())
        if not ctx.is_public_operation(op):
            attackers.append(ctx.anonymous)
        if op.method in ("GET", "HEAD"):
            await _read(ctx, op, attackers)
        elif not ctx.sensitivity(op).auth_flow:
            await _write(ctx, op, attackers)


# ------------------------------------------------------------------ reads


async def _read(ctx: ScanContext, op: Operation, attackers: list[Identity]) -> None:
    reference = _admin_answer(ctx, op)
    passed: list[tuple[Identity, Exchange]] = []
    for attacker in attackers:
        answer = await ctx.call(op, attacker, path_params=_foreign_params(ctx, op, attacker))
        if answer is not None and answer.ok and _same_function(answer, reference):
            passed.append((attacker, answer))
    if not passed:
        return
    names = ", ".join(a.name for a, _ in passed)
    first, answer = passed[0]
    notes = [f"{first.name}'s answer"]
    exchanges = [answer]
    if reference is not None:
        exchanges.append(reference)
        notes.append("the admin's answer, for comparison")
    ctx.report(
        Issue(
            f"{op.key} is an admin operation, and it answered {answer.status} to {names}",
            operation=op,
            exchanges=exchanges,
            identity=first.name,
            confidence="certain" if reference is not None else "firm",
            severity=Severity.CRITICAL if any(a.anonymous for a, _ in passed) else None,
            notes=notes,
        )
    )


def _admin_answer(ctx: ScanContext, op: Operation) -> Exchange | None:
    for admin in ctx.admins():
        seen = ctx.seen.get((op.key, admin.name))
        if seen is not None and seen.ok:
            return seen
    return None


def _same_function(answer: Exchange, reference: Exchange | None) -> bool:
    """The answer is the operation's real output, not a catch-all page or an emptied view."""
    if reference is None:
        # without the admin's answer, at least not an HTML page standing in for JSON
        return answer.content_type != "text/html" or not answer.body.lstrip().startswith(b"<")
    if answer.content_type != reference.content_type:
        return False
    mine, theirs = answer.json(), reference.json()
    if theirs is None:
        return True
    if type(mine) is not type(theirs):
        return False
    if isinstance(theirs, dict):
        # most of the admin's keys: {"status": "error", ...} shares one key by chance
        return len(set(mine) & set(theirs)) >= max(1, len(theirs) // 2) or not theirs
    if isinstance(theirs, list):
        return bool(mine) or not theirs  # an emptied list is the API filtering, not a leak
    return True


def _foreign_params(ctx: ScanContext, op: Operation, attacker: Identity) -> dict[str, Any]:
    """Path values of objects the attacker does not own (the admin's view), when there are."""
    out: dict[str, Any] = {}
    for param in op.parameters:
        if param.param_in != "path":
            continue
        kind = kind_of_param(op, param.name)
        for res in ctx.pool.resources(kind) if kind else []:
            value = ctx.pool.value(res, param.name)
            if value is not None and attacker.name not in res.owners:
                out[param.name] = value
                break
    return out


# ------------------------------------------------------------------ writes


async def _write(ctx: ScanContext, op: Operation, attackers: list[Identity]) -> None:
    found = body_schema(ctx.doc, op)
    if found is None or "{" not in op.path:
        return  # without a body and a target object there is no no-op to send
    schema = found[1]
    props = schema.get("properties")
    if not isinstance(props, dict) or any(CREDENTIAL_KEY.search(k) for k in props):
        return
    for attacker in attackers:
        for params, res in _targets(ctx, op, attacker):
            current = await _current(ctx, op, params, res)
            body = _same_values(schema, current)
            if body is None:
                continue
            answer = await ctx.call(op, attacker, path_params=params, body=body)
            if answer is None:
                continue
            if answer.ok:
                ctx.report(
                    Issue(
                        f"{op.key} is an admin operation, and {attacker.name} called it "
                        f"(answered {answer.status}); the request wrote back the target's "
                        f"current values, so nothing changed",
                        operation=op,
                        exchanges=[answer],
                        identity=attacker.name,
                        confidence="certain",
                        severity=Severity.CRITICAL if attacker.anonymous else None,
                        notes=[f"no-op write of {sorted(body)} as {attacker.name}"],
                    )
                )
                return
            break  # refused: another object would be refused the same way


def _targets(
    ctx: ScanContext, op: Operation, attacker: Identity
) -> list[tuple[dict[str, Any], Resource | None]]:
    """Path values for the write, the attacker's own object first (a mistake hurts it alone)."""
    names = [p.name for p in op.parameters if p.param_in == "path"]
    if not names:
        return []
    last = names[-1]
    kind = kind_of_param(op, last)
    own = ctx.pool.owner_view(kind, attacker.name) if kind else []
    rest = [r for r in ctx.pool.resources(kind) if r not in own] if kind else []
    out: list[tuple[dict[str, Any], Resource | None]] = []
    for res in (own + rest)[:_TARGETS_PER_OPERATION]:
        value = ctx.pool.value(res, last)
        if value is None:
            continue
        params = {last: value}
        for name in names[:-1]:
            for who in (attacker, *ctx.admins()):
                parent = ctx.path_value(op, name, who)
                if parent is not None:
                    params[name] = parent
                    break
        if len(params) == len(names):
            out.append((params, res))
    return out


async def _current(
    ctx: ScanContext, op: Operation, params: dict[str, Any], res: Resource | None
) -> dict[str, Any]:
    """The target's fields as they are now, read through a privileged view when there is one."""
    readers = ctx.admins() or ctx.users()
    same_path = next((o for o in ctx.operations("GET") if o.path == op.path), None)
    if same_path is not None and readers:
        answer = await ctx.call(same_path, readers[0], path_params=params)
        data = answer.json() if answer is not None and answer.ok else None
        if isinstance(data, dict):
            return _scalars(data)
    if res is None:
        return {}
    method, _, path = res.source.partition(" ")
    source = ctx.doc.operation(method, path)
    ident = res.identifier()
    listing = source is not None and method == "GET" and "{" not in path
    if listing and source is not None and ident is not None and ctx.allowed(source):
        holder = next((i for i in readers if i.name in res.seen_by), None)
        answer = await ctx.call(source, holder) if holder is not None else None
        if answer is not None and answer.ok:
            fresh = _find(answer.json(), *ident)
            if fresh is not None:
                return fresh
    return dict(res.fields)


def _scalars(node: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in node.items() if isinstance(v, str | int | float | bool | None)}


def _find(data: Any, key: str, value: Any) -> dict[str, Any] | None:
    """The object in ``data`` whose ``key`` is ``value`` (its scalar fields)."""
    stack, budget = [data], 2000
    while stack and budget:
        budget -= 1
        node = stack.pop()
        if isinstance(node, dict):
            if node.get(key) == value:
                return _scalars(node)
            stack.extend(v for v in node.values() if isinstance(v, dict | list))
        elif isinstance(node, list):
            stack.extend(node)
    return None


def _same_values(schema: dict[str, Any], current: dict[str, Any]) -> dict[str, Any] | None:
    """A body setting each writable property to its current value; None when one is unknown."""
    props: dict[str, Any] = schema.get("properties") or {}
    required = set(schema.get("required") or ())
    body: dict[str, Any] = {}
    for name, sub in props.items():
        if isinstance(sub, dict) and sub.get("readOnly"):
            continue
        if name in current and fits(current[name], sub):
            body[name] = current[name]
        elif name in required:
            return None
    return body or None


# ------------------------------------------------------------------ deletes


@check(
    "admin-delete-exposed",
    title="An admin-only DELETE works for ordinary users",
    category=Owasp.API5,
    cwe=285,
    severity=Severity.HIGH,
    remediation=_REMEDIATION,
    phase=Phase.DESTRUCTIVE,
)
async def admin_delete_exposed(ctx: ScanContext) -> None:
    """Calls each admin-only DELETE as an ordinary user, on an object that user owns.

    The object is the caller's own (one the scan created first), never a user,
    session or key object: the probe shows the function is reachable without
    costing anyone else data. Fires when the DELETE answers 2xx and, where the
    caller can read the object, it then reads 404/410. Destructive: runs last
    and is skipped by ``--safe``.
    """
    for op in ctx.operations("DELETE"):
        names = [p.name for p in op.parameters if p.param_in == "path"]
        if not names or not op.path.rstrip("/").endswith("}") or not privileged(ctx, op):
            continue
        found = await _delete_as_user(ctx, op, names[-1])
        if found is not None:
            ctx.report(found)


async def _delete_as_user(ctx: ScanContext, op: Operation, last: str) -> Issue | None:
    kind = kind_of_param(op, last)
    if kind is None:
        return None
    for attacker in ctx.users():
        res = disposable(ctx, kind, attacker)
        value = ctx.pool.value(res, last) if res is not None else None
        if res is None or value is None:
            continue
        reader = _reader(ctx, kind)
        if reader is not None:
            before = await ctx.call(reader, attacker, path_params=_params(reader, value))
            if before is None or not before.ok:
                reader = None  # the caller cannot read it there: judge on the DELETE alone
        answer = await ctx.call(op, attacker, path_params={last: value})
        if answer is None or not answer.ok:
            return None
        after = None
        if reader is not None:
            after = await ctx.call(reader, attacker, path_params=_params(reader, value))
            if after is None or after.status not in (404, 410):
                return None  # 2xx and still there: not proven
        return Issue(
            f"{op.key} is an admin operation, and {attacker.name} deleted its own {res.kind} "
            f"{value} with it (answered {answer.status})"
            + (f"; the {res.kind} now reads {after.status}" if after is not None else ""),
            operation=op,
            exchanges=[answer] + ([after] if after is not None else []),
            identity=attacker.name,
            confidence="certain" if after is not None else "firm",
            notes=[f"{attacker.name} deleted its own {res.label}", "the object read afterwards"],
        )
    return None


def _reader(ctx: ScanContext, kind: str) -> Operation | None:
    """A GET an ordinary user reads one object of ``kind`` with."""
    for op in ctx.operations("GET"):
        names = [p.name for p in op.parameters if p.param_in == "path"]
        if (
            names
            and op.path.rstrip("/").endswith("}")
            and kind_of_param(op, names[-1]) == kind
            and not privileged(ctx, op)
        ):
            return op
    return None


def _params(op: Operation, value: Any) -> dict[str, Any]:
    names = [p.name for p in op.parameters if p.param_in == "path"]
    return {names[-1]: value}
