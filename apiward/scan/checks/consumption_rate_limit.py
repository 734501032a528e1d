"""API4: no rate limit on login, so passwords can be sprayed or stuffed at any speed.

The burst uses throwaway usernames that exist nowhere (each request a new one),
so no account is locked, the configured identities' least of all.
"""

from __future__ import annotations

import asyncio
import re
import secrets
import time
from typing import Any
from urllib.parse import urlencode

from apiward.config import LoginSection
from apiward.core import Operation, Owasp, Severity
from apiward.scan.check import Issue, Phase, check
from apiward.scan.context import ScanContext
from apiward.scan.http import Exchange
from apiward.scan.values import body_schema

__all__ = ["limit_advertised", "throttled"]

_BURST = 25
_BATCH = 5
_MAX_OPERATIONS = 2
_LOGIN = re.compile(
    r"(^|[^a-z])(login|log-in|signin|sign-in|sign_in|authenticate|session|token)s?($|[^a-z])"
)
_NOT_LOGIN = re.compile(
    r"logout|log-out|signout|register|signup|sign-up|reset|forgot|refresh|verify"
)
_PASSWORD = re.compile(r"pass|pwd|secret|^pin$", re.I)
_USER = re.compile(r"user|login|e?mail|name|account|phone|identifier|handle", re.I)
_REJECTED = (401, 403, 404)
_LIMIT_HEADERS = (
    "ratelimit-limit", "ratelimit-policy", "x-ratelimit-limit", "x-rate-limit-limit",
    "ratelimit-remaining", "x-ratelimit-remaining", "x-rate-limit-remaining",
)  # fmt: skip


def throttled(answer: Exchange) -> bool:
    """The answer says "slow down": 429, or 503 with a Retry-After."""
    return answer.status == 429 or (answer.status == 503 and "retry-after" in answer.headers)


def limit_advertised(answer: Exchange) -> bool:
    """The answer carries rate-limit headers: a limit exists, even if the burst stayed under it."""
    return any(h in answer.headers for h in _LIMIT_HEADERS)


def _login_operations(ctx: ScanContext) -> list[tuple[Operation, LoginSection | None]]:
    flows = {i.login_flow.operation: i.login_flow for i in ctx.identities if i.login_flow}
    found: list[tuple[Operation, LoginSection | None]] = []
    for op in ctx.operations("POST"):
        if op.key in flows:
            found.append((op, flows[op.key]))
            continue
        text = f"{op.path} {op.operation_id or ''} {op.summary or ''}".lower()
        schema = body_schema(ctx.doc, op)
        props = (schema[1].get("properties") or {}) if schema else {}
        if (
            _LOGIN.search(text) and not _NOT_LOGIN.search(text)
            and any(_PASSWORD.search(p) for p in props)
        ):  # fmt: skip
            found.append((op, None))
    return found[:_MAX_OPERATIONS]


def _throwaway(key: str, original: Any, tag: str, n: int) -> Any:
    if _PASSWORD.search(key):
        return f"Wrong-Passw0rd-{tag}{n}"
    if _USER.search(key) and (isinstance(original, str) or original is None):
        name = f"apiward_rl_{tag}{n}"
        return f"{name}@example.com" if isinstance(original, str) and "@" in original else name
    return original


def _bodies(
    ctx: ScanContext, op: Operation, flow: LoginSection | None
) -> list[tuple[dict[str, Any], bool]] | None:
    """The burst's bodies (and whether each goes as a form): one unknown user each."""
    template: dict[str, Any] | None = None
    form = False
    if flow is not None and (flow.body or flow.form):
        form = flow.form is not None
        template = dict(flow.form or flow.body or {})
    else:
        found = body_schema(ctx.doc, op)
        value = ctx.values.request_value(found[1]) if found else None
        if isinstance(value, dict):
            template = value
            form = "form" in (found[0] if found else "")
    if not template or not any(_PASSWORD.search(k) for k in template):
        return None
    known = {
        str(v)
        for i in ctx.identities if i.login_flow is not None
        for v in (i.login_flow.body or i.login_flow.form or {}).values()
    }  # fmt: skip
    tag = secrets.token_hex(3)
    bodies = []
    for n in range(_BURST):
        body = {k: _throwaway(k, v, tag, n) for k, v in template.items()}
        if any(isinstance(v, str) and v in known and _USER.search(k) for k, v in body.items()):
            return None  # never spend failures on a configured identity
        bodies.append((body, form))
    return bodies


async def _send(ctx: ScanContext, op: Operation, body: dict[str, Any], form: bool) -> Exchange:
    if form:
        return await ctx.send(
            op.method, op.path, ctx.anonymous, operation=op, content=urlencode(body),
            headers={"Content-Type": "application/x-www-form-urlencoded"}, credentials=False,
        )  # fmt: skip
    return await ctx.send(op.method, op.path, ctx.anonymous, operation=op, json_body=body,
                          credentials=False)  # fmt: skip


@check(
    "rate-limit-missing",
    title="Login is not rate limited",
    category=Owasp.API4,
    cwe=770,
    severity=Severity.MEDIUM,
    remediation=(
        "Limit login attempts per client (and per account) with a sliding window; answer "
        "429 with Retry-After once over it, and alert on bursts of failures."
    ),
    phase=Phase.NOISY,
)
async def rate_limit_missing(ctx: ScanContext) -> None:
    """Sends a bounded burst of failed logins (25, for usernames that do not exist) from one client.

    Fires when none of them is throttled (429, or 503 with Retry-After) and the
    answers carry no rate-limit headers: credential stuffing and password
    spraying are not slowed down. Configured identities are never used.
    """
    for op, flow in _login_operations(ctx):
        if "{" in op.path:
            continue
        bodies = _bodies(ctx, op, flow)
        if bodies is None or ctx.client.remaining < len(bodies) + 10:
            continue
        answers: list[Exchange] = []
        started = time.monotonic()
        for i in range(0, len(bodies), _BATCH):
            batch = bodies[i : i + _BATCH]
            answers += await asyncio.gather(*(_send(ctx, op, b, f) for b, f in batch))
            if any(throttled(a) or limit_advertised(a) for a in answers):
                break
        if any(throttled(a) or limit_advertised(a) for a in answers):
            continue
        if any(a.status == 0 or a.status >= 500 for a in answers):
            continue  # errors, not answers: nothing to judge
        took = time.monotonic() - started
        statuses = sorted({a.status for a in answers})
        rejected = all(a.status in _REJECTED or a.ok for a in answers)
        ctx.report(
            Issue(
                f"{len(answers)} failed logins for unknown users from one client in {took:.1f} s "
                f"were all answered ({', '.join(map(str, statuses))}), none throttled: no 429, "
                "no Retry-After, no rate-limit headers",
                operation=op,
                exchanges=[answers[-1], answers[0]],
                confidence="firm" if rejected else "tentative",
                notes=["the last attempt of the burst", "the first attempt"],
            )
        )
