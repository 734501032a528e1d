"""API8: a CORS policy that lets any web site read the API's answers.

A browser sends a victim's cookies (or, for ``Access-Control-Allow-Credentials:
true``, any credentials) with a cross-site request and lets the page read the
answer only if the API allows that page's Origin. An API that echoes back
whatever Origin it gets, or ``null`` (sandboxed frames, ``file:`` pages), hands
every visitor's data to every site.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

import httpx

from apiward.core import Operation, Owasp, Severity
from apiward.scan.check import Issue, check
from apiward.scan.context import ScanContext
from apiward.scan.http import Exchange
from apiward.scan.identity import Identity

__all__ = ["CorsVerdict", "cors_misconfigured", "cors_verdict"]

_OPERATIONS = 2


@dataclass(frozen=True, slots=True)
class CorsVerdict:
    """What one answer's CORS headers allow the ``origin`` sent."""

    origin: str
    severity: Severity
    reason: str


def cors_verdict(origin: str, headers: httpx.Headers) -> CorsVerdict | None:
    """Judge the CORS headers answered to a request from ``origin`` (None: nothing wrong)."""
    allowed = headers.get("access-control-allow-origin", "").strip()
    if not allowed:
        return None
    credentials = headers.get("access-control-allow-credentials", "").strip().lower() == "true"
    reflected = allowed.lower() == origin.lower()
    if reflected and credentials:
        return CorsVerdict(
            origin, Severity.HIGH, f"allows Origin {origin} with credentials: any page can read "
            "the answers with the visitor's credentials",
        )  # fmt: skip
    if allowed == "*" and credentials:
        # browsers refuse this pair, yet it shows the policy meant "everyone, with credentials"
        return CorsVerdict(
            origin, Severity.LOW, "answers Access-Control-Allow-Origin: * with "
            "Access-Control-Allow-Credentials: true",
        )  # fmt: skip
    if reflected:
        return CorsVerdict(
            origin, Severity.LOW, f"reflects Origin {origin} (without credentials): any page "
            "can read answers that need no cookie",
        )  # fmt: skip
    return None


@check(
    "cors-misconfigured",
    title="CORS lets any web site read the API's answers",
    category=Owasp.API8,
    cwe=942,
    severity=Severity.HIGH,
    remediation=(
        "Allow-list the exact origins of your own front ends; never reflect the request's "
        "Origin, never allow 'null', and send Access-Control-Allow-Credentials only to them."
    ),
)
async def cors_misconfigured(ctx: ScanContext) -> None:
    """Sends a few authenticated requests from foreign Origins.

    The origins are ``https://evil.example``, ``null`` and the target's own host
    as a subdomain of a foreign one (a prefix-matching allow-list); then a
    preflight when none of them did. Fires when the answer
    allows such an origin: high with ``Access-Control-Allow-Credentials:
    true``, low without. One issue for the API.
    """
    host = urlsplit(ctx.client.base_url).hostname or "localhost"
    origins = ("https://evil.example", "null", f"https://{host}.evil.example")
    found: list[tuple[CorsVerdict, Exchange]] = []
    for op, ident in _samples(ctx):
        for origin in origins:
            if any(v.origin == origin for v, _ in found):
                continue
            answer = await ctx.call(op, ident, headers={"Origin": origin})
            verdict = cors_verdict(origin, answer.headers) if answer is not None else None
            if verdict is not None and answer is not None:
                found.append((verdict, answer))
        if found:
            break  # CORS is one policy for the API: the first operation that shows it will do
    if not found:
        found = await _preflight(ctx, origins[0])
    if not found:
        return
    found.sort(key=lambda pair: -pair[0].severity.rank)
    worst, answer = found[0]
    ctx.report(
        Issue(
            f"The API {worst.reason}"
            + (
                f" (also allowed: {', '.join(v.origin for v, _ in found[1:])})" if found[1:] else ""
            ),
            exchanges=[a for _, a in found],
            identity=answer.identity,
            severity=worst.severity,
            confidence="certain",
            key="cors",
            notes=[f"Origin: {v.origin}" for v, _ in found],
        )
    )


def _samples(ctx: ScanContext) -> list[tuple[Operation, Identity]]:
    """GET operations the crawl saw answer 2xx, authenticated callers first."""
    out: list[tuple[Operation, Identity]] = []
    callers = [*ctx.users(), *ctx.admins(), ctx.anonymous]
    for ident in callers:
        for op in ctx.operations("GET"):
            seen = ctx.seen.get((op.key, ident.name))
            if seen is not None and seen.ok and all(o.key != op.key for o, _ in out):
                out.append((op, ident))
            if len(out) >= _OPERATIONS:
                return out
    if not out:
        out = [(op, callers[0]) for op in ctx.operations("GET") if "{" not in op.path][:1]
    return out


async def _preflight(ctx: ScanContext, origin: str) -> list[tuple[CorsVerdict, Exchange]]:
    """Some servers answer CORS only to the preflight: ask it for an authenticated GET."""
    op = next((o for o, _ in _samples(ctx)), None)
    path = ctx.fill_path(op, {}, (ctx.users() or [ctx.anonymous])[0]) if op is not None else None
    answer = await ctx.send(
        "OPTIONS", path or "/", credentials=False,
        headers={
            "Origin": origin,
            "Access-Control-Request-Method": "GET",
            "Access-Control-Request-Headers": "authorization",
        },
    )  # fmt: skip
    verdict = cors_verdict(origin, answer.headers)
    return [(verdict, answer)] if verdict is not None else []
