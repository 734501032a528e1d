"""API7 server-side request forgery: the API fetches a URL its caller chose.

Inputs that take a URL (``format: uri``, or names such as ``url``, ``callback``,
``webhook``, ``feed_url``, ``avatar_url``) get a URL on the scan's canary, one
input per request, as an identity the operation lets in. A request reaching
the canary for that URL's token is the proof; the canary's answer showing up
in the API's answer makes it a full-read SSRF.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import re
import secrets
from typing import Any

from apiward.core import Operation, Owasp, Severity
from apiward.scan.canary import CanaryHit
from apiward.scan.check import Phase, check
from apiward.scan.checks.injection_points import Point, Target, inject, point_issue, points, targets
from apiward.scan.context import ScanContext
from apiward.scan.http import Exchange

__all__ = ["URL_WAIT", "echoes", "url_points"]

#: Seconds to wait for the API to call the canary after it answered (webhooks are async).
URL_WAIT = 2.0
_MAX_POINTS = 4
_URL_FORMATS = frozenset({"uri", "url", "uri-reference", "iri", "iri-reference", "uri-template"})
_URL_NAMES = re.compile(
    r"(url|uri|link|href|callback|webhook|hook|feed|redirect|endpoint|image|avatar|icon|logo"
    r"|picture|photo|website|homepage|proxy|remote|fetch|import|download|source|src|target"
    r"|dest|destination|location|origin)",
    re.I,
)
_HOST_NAMES = re.compile(r"(host|server|domain|address|addr)", re.I)


def url_points(ctx: ScanContext, op: Operation) -> list[Point]:
    """``op``'s inputs that take a URL: by format, by name, or by an ``http`` example value."""
    found = []
    for point in points(ctx, op):
        fmt = point.schema.get("format")
        if fmt in _URL_FORMATS or _URL_NAMES.search(point.leaf):
            found.append(point)
        elif _HOST_NAMES.search(point.leaf):
            sample = ctx.values.value(point.schema, point.leaf)
            if isinstance(sample, str) and sample.startswith(("http://", "https://")):
                found.append(point)
    found.sort(key=lambda p: p.schema.get("format") not in _URL_FORMATS)
    return found[:_MAX_POINTS]


def echoes(answer: Exchange, body: bytes) -> bool:
    """The canary's ``body`` is in the answer: as is, hex, or base64 (also inside a JSON string)."""
    text = answer.text
    plain = body.decode("utf-8", "replace")
    encoded = base64.b64encode(body).decode()
    if plain in text or body.hex() in text or encoded.rstrip("=") in text:
        return True
    stack: list[Any] = [answer.json()]
    seen = 0
    while stack and seen < 500:
        node = stack.pop()
        seen += 1
        if isinstance(node, dict):
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node[:50])
        elif isinstance(node, str) and 16 <= len(node) <= 1 << 16:
            try:
                decoded = base64.b64decode(node + "=" * (-len(node) % 4), validate=False)
            except (binascii.Error, ValueError):
                continue
            if body in decoded:
                return True
    return False


async def _probe(
    ctx: ScanContext, target: Target, point: Point
) -> tuple[Target, Point, Exchange, list[CanaryHit], bool] | None:
    assert ctx.canary is not None
    payload = f"apiward-ssrf-{secrets.token_hex(8)}".encode()
    token, url = ctx.canary.url("ssrf", answer=(200, payload, "text/plain"))
    answer = await inject(ctx, target, point, url)
    if answer is None:
        return None
    hits = await ctx.canary.wait(token, URL_WAIT)
    if not hits:
        return None
    return target, point, answer, hits, echoes(answer, payload)


@check(
    "ssrf",
    title="The API fetches URLs its caller chooses (SSRF)",
    category=Owasp.API7,
    cwe=918,
    severity=Severity.HIGH,
    remediation=(
        "Fetch only from an allow-list of hosts (https, no credentials, no custom ports), "
        "resolve the host and refuse private, loopback and link-local addresses, do not "
        "follow redirects, and never return the fetched content or the error to the caller."
    ),
    phase=Phase.WRITE,
)
async def ssrf(ctx: ScanContext) -> None:
    """Puts a canary URL (a server of the scan on 127.0.0.1) in each input that takes a URL.

    One input per request, as an identity the operation lets in. Fires when the
    canary receives a request for that URL within two seconds: the API fetched a
    URL its caller chose. When the canary's answer comes back in the API's answer
    (as is, hex or base64) the SSRF reads internal resources (critical).
    """
    if ctx.canary is None:
        return
    ops = [op for op in ctx.operations() if op.method != "DELETE" and url_points(ctx, op)]
    found = await targets(ctx, ops)
    probes = [_probe(ctx, t, p) for t in found for p in url_points(ctx, t.op)]
    reported: set[str] = set()
    for result in await asyncio.gather(*probes):
        if result is None:
            continue
        target, point, answer, hits, full = result
        if target.op.key in reported:
            continue
        reported.add(target.op.key)
        hit = hits[0]
        what = "and returned what it fetched (full-read SSRF)" if full else "(blind SSRF)"
        ctx.report(
            point_issue(
                target,
                point,
                f"{target.op.key} fetched a URL given in {point.label} {what}",
                [answer],
                severity=Severity.CRITICAL if full else Severity.HIGH,
                notes=[
                    f"the canary on 127.0.0.1 received {hit.method} {hit.path} from "
                    f"{hit.client} ({hit.headers.get('User-Agent', 'no User-Agent')})"
                ],
            )
        )
