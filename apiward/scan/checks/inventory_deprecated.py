"""API9: operations the spec retires (``deprecated: true``) that still work.

A deprecated operation is one its owners have stopped looking after: it keeps
older, weaker ways in (the demo's keeps HTTP basic auth) long after the
replacement was hardened. Served at all, it is inventory to retire.
"""

from __future__ import annotations

from apiward.core import Operation, Owasp, Severity
from apiward.scan.check import Issue, check
from apiward.scan.checks.function_common import privileged
from apiward.scan.context import ScanContext
from apiward.scan.http import Exchange
from apiward.scan.identity import Identity

__all__ = ["deprecated_operation_served"]


@check(
    "deprecated-operation-served",
    title="A deprecated operation is still served",
    category=Owasp.API9,
    cwe=1059,
    severity=Severity.LOW,
    remediation=(
        "Retire deprecated operations on a published schedule: answer 410 Gone (or remove the "
        "route), and keep them out of the deployed gateway's routes."
    ),
)
async def deprecated_operation_served(ctx: ScanContext) -> None:
    """Calls each operation the spec marks deprecated as an identity allowed to call it.

    The crawl's answers are used when it already called the operation (its
    creations included); other GET operations are called once as their owner
    (an admin for admin operations, anonymous for public ones). Fires on 2xx.
    Deprecated writes the crawl did not make are not sent.
    """
    for op in ctx.operations():
        if not op.deprecated or ctx.is_login_operation(op):
            continue
        answer = _seen_ok(ctx, op)
        if answer is None and op.method == "GET":
            for ident in _callers(ctx, op):
                called = await ctx.call(op, ident)
                if called is not None and called.ok:
                    answer = called
                    break
        if answer is not None:
            ctx.report(
                Issue(
                    f"{op.key} is deprecated in the spec and still answers {answer.status}",
                    operation=op,
                    exchanges=[answer],
                    identity=answer.identity,
                    confidence="certain",
                )
            )


def _seen_ok(ctx: ScanContext, op: Operation) -> Exchange | None:
    for ident in ctx.identities:
        seen = ctx.seen.get((op.key, ident.name))
        if seen is not None and seen.ok:
            return seen
    return None


def _callers(ctx: ScanContext, op: Operation) -> list[Identity]:
    if privileged(ctx, op):
        return ctx.admins()[:1]
    if ctx.is_public_operation(op):
        return [ctx.anonymous]
    return ctx.users()[:2]
