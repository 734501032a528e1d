"""API8: error answers that carry a stack trace or a debugger's page.

A trace names files, frameworks and versions, sometimes SQL and secrets: a map
for the next attack. Malformed input is the cheapest way to reach an unhandled
error, so this check sends some (broken JSON, a body of the wrong type, numbers
past any integer type) and reads the answers with :func:`detect.stack_trace`.
"""

from __future__ import annotations

from typing import Any

from apiward.core import Operation, Owasp, Severity
from apiward.scan import detect
from apiward.scan.check import Issue, check
from apiward.scan.context import ScanContext
from apiward.scan.http import Exchange
from apiward.scan.identity import Identity
from apiward.scan.values import body_schema, inline

__all__ = ["stack_trace_exposed"]

_BODY_OPERATIONS = 4
_PARAM_OPERATIONS = 3
_HUGE = "9" * 40  # past int64 and float precision: unchecked conversions overflow or fail


@check(
    "stack-trace-exposed",
    title="Errors expose stack traces",
    category=Owasp.API8,
    cwe=209,
    severity=Severity.MEDIUM,
    remediation=(
        "Catch unhandled errors at the edge and answer a generic message (with a correlation "
        "id); log the details server-side. Turn debug modes off in production."
    ),
)
async def stack_trace_exposed(ctx: ScanContext) -> None:
    """Sends malformed input to a few operations and reads the errors.

    Broken JSON and a body of the wrong type to operations that take JSON, a
    40-digit number and a word in integer path and query parameters. The crawl's
    answers are read first. Fires, once for the API, when an answer carries a
    stack trace or a framework's debug page.
    """
    for answer in list(ctx.seen.values()):
        if _report(ctx, answer, "an ordinary request of the crawl"):
            return
    for op, caller in _body_targets(ctx):
        path = ctx.fill_path(op, {}, caller)
        if path is None:
            continue
        broken = await ctx.send(
            op.method, path, caller, operation=op,
            headers={"Content-Type": "application/json"}, content=b'{"apiward": ',
        )  # fmt: skip
        if _report(ctx, broken, "a body of broken JSON"):
            return
        wrong = await ctx.send(op.method, path, caller, operation=op, json_body=["apiward"])
        if _report(ctx, wrong, "a JSON body of the wrong type"):
            return
    for op, caller, where, name in _param_targets(ctx):
        for bad in (_HUGE, "apiward"):
            probe = await _with_param(ctx, op, caller, where, name, bad)
            if probe is not None and _report(ctx, probe, f"{name}={bad[:12]}… ({where})"):
                return


def _report(ctx: ScanContext, answer: Exchange, what: str) -> bool:
    trace = detect.stack_trace(answer.text)
    if trace is None:
        return False
    op = ctx.doc.operation(*answer.operation.split(" ", 1)) if answer.operation else None
    where = f"{answer.method} {answer.path}"
    ctx.report(
        Issue(
            f"{where} answered {answer.status} with a stack trace, to {what}",
            operation=op,
            exchanges=[answer],
            identity=answer.identity,
            confidence="certain",
            key="stack-trace",
            notes=[f"trace: {trace[:200]}"],
        )
    )
    return True


def _caller(ctx: ScanContext, op: Operation) -> Identity:
    if ctx.is_public_operation(op) or ctx.is_login_operation(op) or not ctx.users():
        return ctx.anonymous
    return ctx.users()[0]


def _body_targets(ctx: ScanContext) -> list[tuple[Operation, Identity]]:
    """Operations that take JSON: those anyone may call first (their parser runs before auth)."""
    ops = [
        op
        for op in ctx.operations("POST", "PUT", "PATCH")
        if (found := body_schema(ctx.doc, op)) is not None and "json" in found[0]
    ]
    ops.sort(key=lambda op: not ctx.is_public_operation(op))
    return [(op, _caller(ctx, op)) for op in ops[:_BODY_OPERATIONS]]


def _param_targets(ctx: ScanContext) -> list[tuple[Operation, Identity, str, str]]:
    """GET operations with an integer path or query parameter."""
    out: list[tuple[Operation, Identity, str, str]] = []
    for op in ctx.operations("GET"):
        for param in op.parameters:
            if param.param_in not in ("path", "query") or param.schema is None:
                continue
            if inline(ctx.doc, param.schema).get("type") in ("integer", "number"):
                out.append((op, _caller(ctx, op), param.param_in, param.name))
                break
        if len(out) >= _PARAM_OPERATIONS:
            break
    return out


async def _with_param(
    ctx: ScanContext, op: Operation, caller: Identity, where: str, name: str, bad: Any
) -> Exchange | None:
    if where == "path":
        return await ctx.call(op, caller, path_params={name: bad})
    return await ctx.call(op, caller, query={name: bad})
