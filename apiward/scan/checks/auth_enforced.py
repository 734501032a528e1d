"""API2: operations that require credentials in the spec but answer without them."""

from __future__ import annotations

import base64

from apiward.core import Operation, Owasp, Severity
from apiward.scan.check import Issue, check
from apiward.scan.checks.auth_common import anonymous_answer, owner_views, same_view
from apiward.scan.context import ScanContext
from apiward.scan.http import Exchange
from apiward.scan.identity import ANONYMOUS

__all__ = ["auth_not_enforced"]

_BASIC = "Basic " + base64.b64encode(b"apiward:not-a-password").decode()


def _malformed(ctx: ScanContext, op: Operation) -> list[tuple[str, dict[str, str], dict[str, str]]]:
    """(label, headers, query) of made-up credentials in the places the spec's schemes name."""
    schemes = ctx.doc.raw.get("components", {}).get("securitySchemes", {})
    out: list[tuple[str, dict[str, str], dict[str, str]]] = []
    for name in op.effective_security[0].schemes if op.effective_security else ():
        scheme = schemes.get(name) if isinstance(schemes, dict) else None
        if not isinstance(scheme, dict):
            continue
        kind = str(scheme.get("type", "")).lower()
        where, key = str(scheme.get("in", "")), str(scheme.get("name", ""))
        if kind == "http" and str(scheme.get("scheme", "")).lower() == "basic":
            out.append(("made-up basic credentials", {"Authorization": _BASIC}, {}))
        elif kind in ("http", "oauth2", "openidconnect"):
            out.append(("the malformed token 'x.y.z'", {"Authorization": "Bearer x.y.z"}, {}))
            out.append(
                ("a random bearer token", {"Authorization": "Bearer apiward-invalid-token"}, {})
            )
        elif kind == "apikey" and key and where == "header":
            out.append((f"a made-up {key} header", {key: "apiward-invalid-key"}, {}))
        elif kind == "apikey" and key and where == "query":
            out.append((f"a made-up {key} parameter", {}, {key: "apiward-invalid-key"}))
        if len(out) >= 2:
            break
    return out[:2]


@check(
    "auth-not-enforced",
    title="An operation that requires credentials answers without valid ones",
    category=Owasp.API2,
    cwe=306,
    severity=Severity.HIGH,
    remediation=(
        "Authenticate every request to an operation whose spec requires credentials, in one "
        "place every route goes through (middleware), and deny by default: missing, malformed "
        "or unverifiable credentials get 401."
    ),
)
async def auth_not_enforced(ctx: ScanContext) -> None:
    """Calls each GET whose spec requires credentials without any, then with made-up ones.

    The concrete request is one the crawl answered 2xx for a user (the owner's
    view). It fires when the anonymous answer, or the answer to a malformed token
    (``Bearer x.y.z``, a random token, made-up API key or basic credentials in the
    places the spec's security schemes name), is 2xx with the same content or shape
    as the owner's: a 2xx error or login page does not count, and neither do
    operations whose owner's view is not JSON (a front end serving one page for all).
    """
    for op in ctx.operations("GET"):
        if ctx.is_public_operation(op) or ctx.is_login_operation(op):
            continue
        views = owner_views(ctx, op)
        if not views:
            continue
        ident, view = views[0]
        if view.json() is None:
            # not API data: a web front end (or a catch-all page) answers every path alike
            continue
        anon = await anonymous_answer(ctx, op, view)
        if same_view(anon, view):
            _report(ctx, op, anon, view, ident.name, "no credentials", "anonymous")
            continue
        for label, headers, query in _malformed(ctx, op):
            q, h = ctx.parameters(op)
            answer = await ctx.send(
                "GET", view.path, ctx.anonymous, operation=op, params={**q, **query},
                headers={**h, **headers}, credentials=False,
            )  # fmt: skip
            if same_view(answer, view):
                _report(ctx, op, answer, view, ident.name, label, "malformed-credentials")
                break


def _report(
    ctx: ScanContext,
    op: Operation,
    answer: Exchange,
    view: Exchange,
    owner: str,
    sent: str,
    key: str,
) -> None:
    identical = answer.body == view.body
    what = "the same answer" if identical else "an answer of the same shape as the one"
    ctx.report(
        Issue(
            f"{op.key} requires credentials in the spec but answered {answer.status} with "
            f"{sent}: {what} {owner} gets",
            operation=op,
            exchanges=[answer, view],
            identity=ANONYMOUS,
            confidence="certain" if identical else "firm",
            key=key,
            notes=[f"sent with {sent}", f"{owner}'s own answer"],
        )
    )
