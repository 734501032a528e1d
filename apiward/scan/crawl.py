"""The first phase of a scan: log in, then learn the API's objects as each identity.

1. every identity with a login flow logs in;
2. every GET without path parameters is called as every identity: listings show
   who owns what;
3. creation calls (POST on a collection) are made once per ordinary user, so
   each has objects of its own even on an empty API;
4. GETs with path parameters are called on each identity's own objects, twice,
   to follow links one level down.

Everything answered is harvested into the pool and kept in ``ctx.seen`` as the
owner's view that later checks compare against.
"""

from __future__ import annotations

import asyncio
import logging

from apiward.core import Operation
from apiward.errors import InputError
from apiward.scan.context import ScanContext
from apiward.scan.http import Exchange
from apiward.scan.identity import Identity, LoginFailed

__all__ = ["LoginFailed", "crawl", "log_in"]

log = logging.getLogger("apiward.scan")


async def log_in(ctx: ScanContext) -> list[str]:
    """Run every identity's login flow. Returns warnings; raises LoginFailed when one fails."""
    warnings: list[str] = []
    for ident in ctx.identities:
        flow = ident.login_flow
        if flow is None:
            for value, placeholder in ident.secret_values.items():
                ctx.client.secrets.add(value, placeholder)
            continue
        method, _, template = flow.operation.partition(" ")
        op = ctx.doc.operation(method, template)
        if op is None:
            warnings.append(
                f"identity {ident.name}: login operation {flow.operation} is not in the spec"
            )
        if "{" in template:
            raise InputError(f"identity {ident.name}: the login path {template} has parameters")
        ctx.login_paths[ident.name] = template
        await ident.login(ctx.client, template, ctx.client.secrets)
    return warnings


async def crawl(ctx: ScanContext) -> None:
    ctx.pool.admins = {i.name for i in ctx.admins()}
    everyone = ctx.identities
    listings = [op for op in ctx.operations("GET") if not _has_path_params(op)]
    await _each(ctx, [(op, i) for op in listings for i in everyone if _may(ctx, op, i)])
    creations = [op for op in ctx.operations("POST") if _creates(ctx, op)]
    await _each(ctx, [(op, i) for op in creations for i in ctx.users() if _may(ctx, op, i)])
    details = [op for op in ctx.operations("GET") if _has_path_params(op)]
    for _ in range(2):
        await _each(
            ctx, [(op, i) for op in details for i in ctx.authenticated() if _may(ctx, op, i)]
        )


def _may(ctx: ScanContext, op: Operation, ident: Identity) -> bool:
    sens = ctx.sensitivity(op)
    if sens.admin and not ident.is_admin:
        return False  # the checks try that on purpose; the crawl asks politely
    return not ctx.is_login_operation(op)


def _has_path_params(op: Operation) -> bool:
    return "{" in op.path


def _creates(ctx: ScanContext, op: Operation) -> bool:
    last = [s for s in op.path.split("/") if s][-1:] or [""]
    sens = ctx.sensitivity(op)
    return not last[0].startswith("{") and not sens.auth_flow and not sens.admin


async def _each(ctx: ScanContext, calls: list[tuple[Operation, Identity]]) -> None:
    await asyncio.gather(*(_visit(ctx, op, ident) for op, ident in calls))


async def _visit(ctx: ScanContext, op: Operation, ident: Identity) -> Exchange | None:
    if (op.key, ident.name) in ctx.seen and op.method == "POST":
        return None  # one creation each is enough
    answer = await ctx.call(op, ident)
    if answer is None:
        return None
    if answer.ok:
        ctx.seen[(op.key, ident.name)] = answer
        body = answer.json()
        if body is not None:
            ctx.pool.harvest(op, ident.name, body, owned=ident.authenticated)
        if ctx.links is not None:
            ctx.links.follow(ctx.pool, op, ident.name, answer, owned=ident.authenticated)
    elif (op.key, ident.name) not in ctx.seen:
        ctx.seen[(op.key, ident.name)] = answer
    return answer
