"""API6: business flows that a script can run at any speed.

Sign-ups, money movements, password-reset requests, coupon redemptions and
user content are what bots abuse (bonus farming, card testing, mail bombing,
spam). Each flow is run a few times in a row with fresh, valid values; money
moves by the smallest amount, back and forth between the caller's own objects
when it has two, so balances end where they started.
"""

from __future__ import annotations

import itertools
import math
import re
from typing import Any

from apiward.core import Operation, Owasp, Severity
from apiward.scan.check import Issue, Phase, check
from apiward.scan.checks.consumption_rate_limit import limit_advertised, throttled
from apiward.scan.context import ScanContext
from apiward.scan.http import Exchange
from apiward.scan.identity import Identity
from apiward.scan.resources import kind_of_field
from apiward.scan.values import body_schema
from apiward.scan.values_schema import is_num

__all__ = ["flow_of", "smallest"]

_RUNS = 8
_MAX_FLOWS = 6
_FLOWS: tuple[tuple[str, frozenset[str]], ...] = (
    ("sign-up", frozenset({"register", "registration", "signup", "enroll", "enrol"})),
    ("money movement", frozenset({
        "transfer", "transfers", "payment", "payments", "pay", "checkout", "purchase",
        "purchases", "order", "orders", "withdraw", "withdrawal", "withdrawals", "payout",
        "payouts", "remittance", "remittances", "topup", "donate", "donation", "donations",
    })),
    ("password reset", frozenset({"forgot", "forgotpassword", "passwordreset", "resetpassword",
                                  "recover", "recovery"})),
    ("redemption", frozenset({"redeem", "voucher", "vouchers", "coupon", "coupons", "promo",
                              "giftcard", "giftcards", "referral", "referrals"})),
    ("user content", frozenset({"comment", "comments", "review", "reviews", "rating", "ratings",
                                "feedback", "posts", "messages", "invite", "invites",
                                "invitations"})),
)  # fmt: skip
# bodies that carry a secret from an earlier step (a reset token, a code) cannot be replayed
_STEP_TWO = re.compile(r"token|code|otp|new_?password|confirm", re.I)
_DESTINATION = re.compile(
    r"(^|_)(to|dest|destination|target|recipient|payee|beneficiary|receiver)(_|$)|^to[A-Z]", re.I
)
_SMALL = re.compile(
    r"(^|_)(amount|quantity|qty|count|value|price|total|sum|points)(_|$)|^(amount|quantity|qty|"
    r"count|value|price|total|sum|points)[A-Z]|[a-z](Amount|Quantity|Qty|Count|Value|Price|"
    r"Total|Sum|Points)$"
)


def _words(op: Operation) -> set[str]:
    text = " ".join([op.path, op.operation_id or "", *op.tags])
    text = re.sub(r"(?<=[a-z0-9])([A-Z])", r" \1", text).lower()
    parts = re.findall(r"[a-z]+", text)
    joined = {a + b for a, b in itertools.pairwise(parts)}  # sign up, gift card
    return set(parts) | joined


def flow_of(op: Operation) -> str | None:
    """The kind of business flow ``op`` is (``sign-up``, ``money movement``...), or None."""
    words = _words(op)
    return next((name for name, cues in _FLOWS if words & cues), None)


def smallest(schema: dict[str, Any]) -> float | int:
    """The smallest positive value ``schema`` allows (1 unit, or one step of multipleOf)."""
    low = schema.get("minimum")
    above = schema.get("exclusiveMinimum")
    step = schema.get("multipleOf")
    integer = schema.get("type") == "integer"
    unit = step if is_num(step) and step > 0 else (1 if integer else 0.01)
    floor = max(low if is_num(low) else 0, above if is_num(above) else 0)
    k = max(1, math.ceil(round(floor / unit, 9)))
    value = round(k * unit, 9)
    if is_num(above) and value <= above:
        value = round((k + 1) * unit, 9)
    return int(value) if integer else value


def _own_values(ctx: ScanContext, kind: str, ident: Identity) -> list[Any]:
    out = []
    for res in ctx.pool.owner_view(kind, ident.name):
        value = ctx.pool.value(res, "id")
        if value is not None:
            out.append(value)
    return out


def _others(ctx: ScanContext, kind: str, ident: Identity) -> list[Any]:
    out = []
    for res in ctx.pool.others(kind, ident.name):
        value = ctx.pool.value(res, "id")
        if value is not None:
            out.append(value)
    return out


def _body(
    ctx: ScanContext, schema: dict[str, Any], ident: Identity, run: int
) -> dict[str, Any] | None:
    """A fresh valid body; references point at the caller's objects, amounts are tiny."""
    body = ctx.values.request_value(schema)
    if not isinstance(body, dict):
        return None
    props = schema.get("properties") or {}
    refs = {n: k for n in props if (k := kind_of_field(n, ctx.pool.kinds))}
    for kind in set(refs.values()):
        names = [n for n, k in refs.items() if k == kind]
        own = _own_values(ctx, kind, ident)
        if not own:
            continue
        sources = [n for n in names if not _DESTINATION.search(n)]
        targets = [n for n in names if _DESTINATION.search(n)]
        if sources and targets:
            if len(own) >= 2:
                a, b = (own[0], own[1]) if run % 2 == 0 else (own[1], own[0])
            else:
                others = _others(ctx, kind, ident)
                if not others:
                    return None
                a, b = own[0], others[0]
            body.update({n: a for n in sources})
            body.update({n: b for n in targets})
        else:
            body.update({n: own[0] for n in names})
    for name, sub in props.items():
        numeric = isinstance(sub, dict) and sub.get("type") in ("integer", "number")
        if name in body and name not in refs and numeric and _SMALL.search(name):
            body[name] = smallest(sub)
    return body


@check(
    "business-flow-unthrottled",
    title="A sensitive business flow can be automated",
    category=Owasp.API6,
    cwe=799,
    severity=Severity.MEDIUM,
    remediation=(
        "Put anti-automation on flows bots abuse: velocity limits per user, device and "
        "client (429 with Retry-After), CAPTCHA or proof of work on sign-up and reset, "
        "and alerts on bursts."
    ),
    phase=Phase.NOISY,
)
async def business_flow_unthrottled(ctx: ScanContext) -> None:
    """Runs each sensitive business flow 8 times in a row with fresh values.

    Flows are recognised from paths, operationIds and tags: sign-up, transfers
    and payments, orders, password-reset requests, coupon redemption, comments
    and reviews. Sign-ups use new throwaway users; money moves by the smallest
    amount between the caller's own objects. Fires when every run succeeds and
    none is throttled (429, or 503 with Retry-After).
    """
    done = 0
    for op in ctx.operations("POST", "PUT"):
        name = flow_of(op)
        if name is None or done >= _MAX_FLOWS:
            continue
        if ctx.is_login_operation(op) or ctx.is_admin_operation(op):
            continue
        found = body_schema(ctx.doc, op)
        schema = found[1] if found and "json" in found[0] else None
        if schema is not None and any(_STEP_TWO.search(p) for p in schema.get("required") or []):
            continue
        ident = ctx.anonymous if ctx.is_public_operation(op) else next(iter(ctx.users()), None)
        if ident is None or ctx.client.remaining < _RUNS + 10:
            continue
        done += 1
        answers = await _runs(ctx, op, ident, schema)
        if answers is None:
            continue
        ctx.report(
            Issue(
                f"{name} flow {op.key} ran {len(answers)} times in a row as {ident.name}, each "
                f"accepted ({answers[-1].status}), none throttled: nothing stops a script",
                operation=op,
                exchanges=[answers[-1], answers[0]],
                identity=ident.name,
                confidence="firm",
                key=name,
                notes=["the last run", "the first run"],
            )
        )


async def _runs(
    ctx: ScanContext, op: Operation, ident: Identity, schema: dict[str, Any] | None
) -> list[Exchange] | None:
    """The answers when every run succeeded unthrottled; None otherwise."""
    answers: list[Exchange] = []
    for run in range(_RUNS):
        if schema is not None:
            body = _body(ctx, schema, ident, run)
            if body is None:
                return None
            answer = await ctx.call(op, ident, body=body)
        else:
            answer = await ctx.call(op, ident)
        if answer is None or not answer.ok or throttled(answer) or limit_advertised(answer):
            return None
        answers.append(answer)
    return answers
