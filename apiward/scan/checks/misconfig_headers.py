"""API8: what every answer's headers say, or fail to say.

Both checks read the answers the crawl already has (``ctx.seen``): headers are
the server's, the same on every operation, so no request is needed beyond one
error page (proxies and frameworks often stamp their banner there).
"""

from __future__ import annotations

import secrets
from urllib.parse import urlsplit

from apiward.core import Owasp, Severity
from apiward.scan import detect
from apiward.scan.check import Issue, check
from apiward.scan.context import ScanContext
from apiward.scan.http import Exchange

__all__ = ["security_headers_missing", "server_banner"]


def _answers(ctx: ScanContext) -> list[Exchange]:
    """The crawl's answers, 2xx ones first: those carry the data the headers protect."""
    answers = [a for a in ctx.seen.values() if a.status]
    return sorted(answers, key=lambda a: not a.ok)


@check(
    "security-headers-missing",
    title="Security headers are missing",
    category=Owasp.API8,
    cwe=693,
    severity=Severity.LOW,
    remediation=(
        "Set on every answer: "
        + ", ".join(f"{k}: {v}" for k, v in detect.RECOMMENDED_HEADERS.items())
        + " (the last two matter for HTML answers; HSTS for HTTPS)."
    ),
)
async def security_headers_missing(ctx: ScanContext) -> None:
    """Reads the headers of the answers the crawl got.

    Expects ``X-Content-Type-Options: nosniff`` everywhere, ``Cache-Control:
    no-store`` on authenticated answers, HSTS when the target is https, and CSP
    and framing protection on HTML answers. Fires once for the API, listing
    what is missing and on how many answers.
    """
    https = urlsplit(ctx.client.base_url).scheme.lower() == "https"
    authenticated = {i.name for i in ctx.authenticated()}
    answers = [a for a in _answers(ctx) if a.ok] or _answers(ctx)
    if not answers:
        answers = [await ctx.send("GET", "/")]
    missing: dict[str, list[Exchange]] = {}
    for answer in answers:
        for name in detect.missing_security_headers(
            answer.headers, https=https, authenticated=answer.identity in authenticated
        ):
            missing.setdefault(name, []).append(answer)
    if not missing:
        return
    example = max(
        answers, key=lambda a: sum(any(a is f for f in found) for found in missing.values())
    )
    parts = [f"{name} (on {len(found)} of {len(answers)})" for name, found in missing.items()]
    ctx.report(
        Issue(
            f"Answers lack security headers: {', '.join(parts)}",
            exchanges=[example],
            identity=example.identity,
            confidence="certain",
            key="security-headers",
        )
    )


@check(
    "server-banner",
    title="The server discloses software versions",
    category=Owasp.API8,
    cwe=497,
    severity=Severity.LOW,
    remediation=(
        "Remove version numbers from Server, X-Powered-By and similar headers (in the "
        "framework, the app server and every proxy)."
    ),
)
async def server_banner(ctx: ScanContext) -> None:
    """Reads the Server, X-Powered-By and version headers of the crawl's answers and of a 404.

    Fires once for the API when one names a product with its version
    (``nginx/1.25.3``); a bare product name is not enough.
    """
    answers = _answers(ctx)[:50]
    answers.append(await ctx.send("GET", f"/apiward-{secrets.token_hex(6)}"))
    for answer in answers:
        banner = detect.server_banner(answer.headers)
        if banner is not None:
            ctx.report(
                Issue(
                    f"The server names its software and versions: {banner}",
                    exchanges=[answer],
                    identity=answer.identity,
                    confidence="certain",
                    key="server-banner",
                )
            )
            return
