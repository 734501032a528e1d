"""API2: a password reset that hands its secret to whoever asked for it."""

from __future__ import annotations

import math
import re
import secrets
from collections import Counter
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from apiward.core import Operation, Owasp, Severity
from apiward.scan.check import Issue, check
from apiward.scan.checks.auth_flows import (
    is_email_field,
    is_name_field,
    known_email,
    reset_operation,
)
from apiward.scan.context import ScanContext
from apiward.scan.http import Exchange
from apiward.scan.identity import Identity
from apiward.scan.values import body_schema

__all__ = ["reset_token_exposed"]

_JWT = re.compile(r"^eyJ[\w-]+\.eyJ[\w-]+\.[\w-]*$")
_SECRET_KEY = re.compile(r"token|reset|code|otp|secret|nonce|key|link|url|verification", re.I)
_CODE_KEY = re.compile(r"code|otp|pin", re.I)
_MAX_NODES = 500


def _entropy(value: str) -> float:
    counts = Counter(value)
    return -sum(n / len(value) * math.log2(n / len(value)) for n in counts.values())


def _token_like(key: str, value: str) -> bool:
    """A value that can only be a one-time secret: a JWT, a long random string, a short code."""
    if _JWT.match(value):
        return True
    if value.isdigit() and 4 <= len(value) <= 8:
        return bool(_CODE_KEY.search(key))
    if " " in value or "@" in value or len(value) < 16:
        return False
    if value.startswith(("http://", "https://", "/")):
        return any(_token_like(k, v) for k, v in parse_qsl(urlsplit(value).query))
    has_digit = any(c.isdigit() for c in value)
    has_alpha = any(c.isalpha() for c in value)
    return has_digit and has_alpha and _entropy(value) >= 3.5


def _secrets_in(data: Any) -> Iterator[tuple[str, str]]:
    """(field, value) of every token-like string under a secret-sounding field name."""
    stack: list[tuple[str, Any]] = [("", data)]
    seen = 0
    while stack and seen < _MAX_NODES:
        key, node = stack.pop()
        seen += 1
        if isinstance(node, dict):
            stack.extend((str(k), v) for k, v in node.items())
        elif isinstance(node, list):
            stack.extend((key, v) for v in node[:50])
        elif isinstance(node, str) and _SECRET_KEY.search(key) and _token_like(key, node):
            yield key, node


def _account(ctx: ScanContext, field: str) -> tuple[Identity, str] | None:
    """An identity and its value for the reset's account field (email or username)."""
    for ident in [*ctx.users(), *ctx.admins()]:
        if is_email_field(field):
            value = known_email(ctx, ident)
        else:
            flow = ident.login_flow
            body = (flow.body or flow.form or {}) if flow is not None else {}
            value = next((v for k, v in body.items() if is_name_field(k)), None)
        if isinstance(value, str) and value:
            return ident, value
    return None


async def _ask(ctx: ScanContext, op: Operation, body: dict[str, Any]) -> Exchange:
    return await ctx.send(
        op.method, op.path, ctx.anonymous, operation=op, json_body=body, credentials=False
    )


@check(
    "reset-token-exposed",
    title="Password reset returns its token to the requester",
    category=Owasp.API2,
    cwe=640,
    severity=Severity.CRITICAL,
    remediation=(
        "Send the reset token only to the account's mailbox or phone; the API answers the "
        "same neutral message whether or not the account exists, and never the token."
    ),
)
async def reset_token_exposed(ctx: ScanContext) -> None:
    """Asks a password reset, as nobody, for a configured identity's email, and for an unknown one.

    It fires when the answer for the real account carries a token-like value (a
    JWT, a long random string or a one-time code under a field named like token,
    reset, code or link) that the answer for the unknown account does not: whoever
    knows an address can reset that account's password. The reset is only
    requested, never confirmed, so no password changes.
    """
    found = reset_operation(ctx)
    if found is None:
        return
    op, field = found
    account = _account(ctx, field)
    schema = body_schema(ctx.doc, op)
    if account is None or schema is None:
        return
    ident, value = account
    body = ctx.values.request_value(schema[1])
    if not isinstance(body, dict):
        return
    tag = secrets.token_hex(4)
    unknown_value = f"apiward.nobody.{tag}@example.com" if "@" in value else f"apiward_nobody_{tag}"
    real = await _ask(ctx, op, {**body, field: value})
    if not real.ok:
        return
    unknown = await _ask(ctx, op, {**body, field: unknown_value})
    shared = {v for _, v in _secrets_in(unknown.json())} if unknown.ok else set()
    leaked = [(k, v) for k, v in _secrets_in(real.json()) if v not in shared]
    if not leaked:
        return
    key, token = leaked[0]
    ctx.report(
        Issue(
            f"{op.key} returned a reset token in {key!r} ({token[:4]}…) to an anonymous "
            f"request for {ident.name}'s account: anyone who knows it can take the account over",
            operation=op,
            exchanges=[real, unknown],
            identity=ctx.anonymous.name,
            confidence="certain" if unknown.ok else "firm",
            key=key,
            notes=[f"reset asked for {ident.name}'s account", "reset asked for an unknown account"],
        )
    )
