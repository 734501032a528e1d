"""API5: methods the spec does not document, still served on documented paths.

A leftover ``DELETE`` handler, or a framework route that accepts every method,
is a function nobody reviewed: no ownership or role check was written for it.
The harmless probes (GET, an empty PATCH, a PUT of the object's current
representation) run with the other writes; the DELETE probe deletes one
object the caller itself owns and runs last, in the destructive phase.
"""

from __future__ import annotations

import secrets
from typing import Any

from apiward.core import Operation, Owasp, Severity
from apiward.scan.check import Issue, Phase, check
from apiward.scan.checks.function_common import CREDENTIAL_KEY, disposable, excluded, privileged
from apiward.scan.context import UNSET, ScanContext
from apiward.scan.http import Exchange
from apiward.scan.identity import Identity
from apiward.scan.resources import kind_of_param

__all__ = ["method_not_allowed_bypass", "undocumented_method"]

_REMEDIATION = (
    "Route only the methods the spec documents (answer 405 to the others), and remove "
    "leftover handlers; every handler needs the same authorization as the documented ones."
)


def _paths(ctx: ScanContext) -> dict[str, list[Operation]]:
    """Documented operations by path, for paths the scan may touch at all."""
    out: dict[str, list[Operation]] = {}
    for op in ctx.doc.operations:
        out.setdefault(op.path, []).append(op)
    return {
        path: ops
        for path, ops in out.items()
        if all(ctx.allowed(o) or (o.method == "DELETE" and ctx.options.safe) for o in ops)
        and not any(
            privileged(ctx, o) or ctx.sensitivity(o).auth_flow or ctx.is_login_operation(o)
            for o in ops
        )
    }


# ------------------------------------------------------------------ harmless probes


@check(
    "undocumented-method",
    title="An undocumented HTTP method is served on a documented path",
    category=Owasp.API5,
    cwe=650,
    severity=Severity.MEDIUM,
    remediation=_REMEDIATION,
    phase=Phase.WRITE,
)
async def undocumented_method(ctx: ScanContext) -> None:
    """Sends the methods a documented path does not document, in forms that change nothing.

    GET; PATCH with an empty object (with the object's current representation
    where a PUT is documented); PUT with the object's current representation, as
    its owner reads it just before. Fires when one answers 2xx while the same method on a
    random path does not (so catch-all servers stay quiet). Admin, login and
    reset paths, and paths with only POST (actions a method-blind route would
    run), are left alone.
    """
    catch_all: dict[str, bool] = {}
    for path, ops in _paths(ctx).items():
        documented = {o.method for o in ops}
        placed = _place(ctx, ops)
        if placed is None:
            continue
        ident, concrete = placed
        served: list[tuple[str, Exchange]] = []
        for method, body in await _probes(ctx, ops, documented, ident, concrete):
            if excluded(ctx, method, path):
                continue
            if method not in catch_all:
                catch_all[method] = await _answers_anything(ctx, method, ident)
            if catch_all[method]:
                continue
            kwargs: dict[str, Any] = {} if body is UNSET else {"json_body": body}
            answer = await ctx.send(method, concrete, ident, **kwargs)
            if answer.ok:
                served.append((method, answer))
        if served:
            methods = ", ".join(m for m, _ in served)
            ctx.report(
                Issue(
                    f"{path} answers {methods} (not in the spec, which documents "
                    f"{', '.join(sorted(documented))}) with 2xx",
                    exchanges=[a for _, a in served],
                    identity=ident.name,
                    path=path,
                    key=path,
                    confidence="firm",
                    notes=[f"{m} answered {a.status}" for m, a in served],
                )
            )


def _place(ctx: ScanContext, ops: list[Operation]) -> tuple[Identity, str] | None:
    """An identity and a concrete path on one of its own objects."""
    for ident in (*ctx.users(), ctx.anonymous):
        if ident.anonymous and not all(ctx.is_public_operation(o) for o in ops):
            break
        concrete = ctx.fill_path(ops[0], {}, ident)
        if concrete is not None:
            return ident, concrete
    return None


async def _probes(
    ctx: ScanContext, ops: list[Operation], documented: set[str], ident: Identity, concrete: str
) -> list[tuple[str, Any]]:
    """(method, body) pairs to send; the writes carry the object's own current representation."""
    if documented <= {"POST"}:
        return []  # an action's path: a method-blind route would run the action
    out: list[tuple[str, Any]] = []
    if "GET" not in documented:
        out.append(("GET", UNSET))
    current: dict[str, Any] | None = None
    if "GET" in documented and "{" in ops[0].path and not {"PUT", "PATCH"} <= documented:
        answer = await ctx.send("GET", concrete, ident)
        data = answer.json() if answer.ok else None
        if isinstance(data, dict) and data and not _has_credentials(data):
            current = data
    if "PATCH" not in documented:
        # next to a documented PUT, a method-blind route could replace the object with {}
        patch = current if "PUT" in documented else {}
        if patch is not None:
            out.append(("PATCH", patch))
    if "PUT" not in documented and current is not None:
        out.append(("PUT", current))
    return out


def _has_credentials(data: Any, depth: int = 0) -> bool:
    if depth > 4:
        return True
    if isinstance(data, dict):
        return any(
            CREDENTIAL_KEY.search(str(k)) or _has_credentials(v, depth + 1) for k, v in data.items()
        )
    if isinstance(data, list):
        return any(_has_credentials(v, depth + 1) for v in data[:20])
    return False


async def _answers_anything(ctx: ScanContext, method: str, ident: Identity) -> bool:
    """The server answers 2xx to ``method`` on a path that cannot exist."""
    nowhere = f"/apiward-{secrets.token_hex(6)}/{secrets.token_hex(4)}"
    kwargs: dict[str, Any] = {} if method == "GET" else {"json_body": {}}
    answer = await ctx.send(method, nowhere, ident, **kwargs)
    return answer.ok


# ------------------------------------------------------------------ DELETE


@check(
    "method-not-allowed-bypass",
    title="Undocumented DELETE is served",
    category=Owasp.API5,
    cwe=650,
    severity=Severity.HIGH,
    remediation=_REMEDIATION,
    phase=Phase.DESTRUCTIVE,
)
async def method_not_allowed_bypass(ctx: ScanContext) -> None:
    """Sends DELETE to documented object paths whose spec has no DELETE.

    The target is an object the calling user owns alone (one the scan created,
    else the last it owns), never one holding a login. Fires when the
    DELETE answers 2xx and the object then reads 404/410 (or, with no GET on the
    path, on the 2xx alone). Destructive: runs last and is skipped by ``--safe``.
    """
    for path, ops in _paths(ctx).items():
        segments = [s for s in path.split("/") if s]
        if "DELETE" in {o.method for o in ops} or not segments or "{" not in segments[-1]:
            continue
        if excluded(ctx, "DELETE", path) or ctx.options.safe:
            continue
        found = await _delete_own(ctx, path, ops)
        if found is not None:
            ctx.report(found)


async def _delete_own(ctx: ScanContext, path: str, ops: list[Operation]) -> Issue | None:
    template = ops[0]
    names = [p.name for p in template.parameters if p.param_in == "path"]
    if not names:
        return None
    last = names[-1]
    kind = kind_of_param(template, last)
    getter = next((o for o in ops if o.method == "GET"), None)
    for ident in ctx.users():
        res = disposable(ctx, kind, ident) if kind else None
        value = ctx.pool.value(res, last) if res is not None else None
        if res is None or value is None:
            continue
        concrete = ctx.fill_path(template, {last: value}, ident)
        if concrete is None:
            continue
        if getter is not None:
            before = await ctx.call(getter, ident, path_params={last: value})
            if before is None or not before.ok:
                continue
        answer = await ctx.send("DELETE", concrete, ident)
        if not answer.ok:
            return None  # refused: the method is not served (or is checked) here
        after = None
        if getter is not None:
            after = await ctx.call(getter, ident, path_params={last: value})
            if after is None or after.status not in (404, 410):
                return None  # 2xx without effect: not a working handler
        return Issue(
            f"DELETE {concrete} answered {answer.status} though {path} documents only "
            f"{', '.join(sorted(o.method for o in ops))}"
            + (f"; the {res.kind} is gone ({after.status} afterwards)" if after else ""),
            exchanges=[answer] + ([after] if after is not None else []),
            identity=ident.name,
            path=path,
            key=f"DELETE {path}",
            confidence="certain" if after is not None else "firm",
            notes=[f"{ident.name} deleted its own {res.label}", "the same object read afterwards"],
        )
    return None
