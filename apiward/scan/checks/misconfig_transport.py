"""API8: how the API is reached: plain HTTP, and TRACE echoing requests back.

Whether plain HTTP is a problem depends on where the target is:
:func:`plain_http_risk` decides it from the URL alone (loopback is a developer's
own machine; private networks and single-label names are internal; anything
else crosses networks nobody controls).
"""

from __future__ import annotations

import ipaddress
import secrets
from urllib.parse import urlsplit

from apiward.core import Owasp, Severity
from apiward.core.source import is_loopback_host
from apiward.scan.check import Issue, check
from apiward.scan.context import ScanContext
from apiward.scan.http import Exchange

__all__ = ["is_loopback", "plain_http", "plain_http_risk", "trace_enabled"]

_INTERNAL_SUFFIXES = (
    ".local", ".internal", ".lan", ".home.arpa", ".corp", ".intranet", ".test", ".example",
    ".invalid", ".localdomain",
)  # fmt: skip
_ECHO_HEADER = "X-Apiward-Trace"


def is_loopback(host: str) -> bool:
    """``localhost`` (and its subdomains, with or without the root dot), 127/8, ``::1``."""
    name = host.strip("[]").rstrip(".").lower()
    if is_loopback_host(name) or name.endswith(".localhost"):
        return True
    try:
        mapped = getattr(ipaddress.ip_address(name), "ipv4_mapped", None)
    except ValueError:
        return False
    return mapped is not None and mapped.is_loopback  # ::ffff:127.0.0.1


def plain_http_risk(url: str) -> tuple[Severity, str] | None:
    """How bad it is to reach ``url`` without TLS; None when it is https or loopback."""
    split = urlsplit(url)
    host = split.hostname or ""
    if split.scheme.lower() != "http" or not host or is_loopback(host):
        return None
    name = host.rstrip(".").lower()
    try:
        address = ipaddress.ip_address(name)
    except ValueError:
        address = None
    if address is not None:
        if address.is_unspecified:
            return None  # 0.0.0.0 reaches this machine
        if address.is_private or address.is_link_local:
            return Severity.LOW, f"{host} is on a private network, reached without TLS"
        return Severity.HIGH, f"{host} is a public address, reached without TLS"
    if "." not in name or name.endswith(_INTERNAL_SUFFIXES):
        return Severity.LOW, f"{host} is an internal name, reached without TLS"
    return Severity.HIGH, f"{host} is reached without TLS"


@check(
    "plain-http",
    title="The API is served over plain HTTP",
    category=Owasp.API8,
    cwe=319,
    severity=Severity.HIGH,
    remediation=(
        "Serve the API over HTTPS only: redirect (or refuse) plain HTTP and send "
        "Strict-Transport-Security."
    ),
)
async def plain_http(ctx: ScanContext) -> None:
    """Looks at the target's scheme: credentials and data to an http:// API cross the wire in clear.

    Fires for an http:// target that is not loopback (low on private networks
    and internal names). For an https target on loopback on the default port,
    also asks its http:// twin and fires when that answers without redirecting.
    """
    base = ctx.client.base_url
    risk = plain_http_risk(base)
    if risk is not None:
        severity, reason = risk
        evidence = next((a for a in ctx.seen.values() if a.status), None)
        ctx.report(
            Issue(
                f"The API is served over plain HTTP: {reason}",
                exchanges=[evidence] if evidence is not None else [],
                severity=severity,
                confidence="certain",
                key="plain-http",
            )
        )
        return
    twin = await _http_twin(ctx, base)
    if twin is not None:
        ctx.report(
            Issue(
                f"{twin.url} answers {twin.status} over plain HTTP without redirecting to HTTPS",
                exchanges=[twin],
                severity=Severity.MEDIUM,
                confidence="certain",
                key="plain-http",
            )
        )


async def _http_twin(ctx: ScanContext, base: str) -> Exchange | None:
    split = urlsplit(base)
    host = split.hostname or ""
    # only where it stays on this machine, and where the twin's port is a known one
    if split.scheme.lower() != "https" or split.port not in (None, 443) or not is_loopback(host):
        return None
    netloc = f"[{host}]" if ":" in host else host
    answer = await ctx.send("GET", f"http://{netloc}{split.path or '/'}")
    if answer.status == 0 or 300 <= answer.status < 400:
        return None
    return answer


@check(
    "trace-enabled",
    title="TRACE echoes requests back",
    category=Owasp.API8,
    cwe=693,
    severity=Severity.MEDIUM,
    remediation="Disable TRACE and TRACK on the server and on every proxy in front of it.",
)
async def trace_enabled(ctx: ScanContext) -> None:
    """Sends TRACE and TRACK, with a marker header, to the API root and a documented path.

    Fires when one answers 2xx with the marker in its body: the server echoes
    requests, headers (cookies, Authorization) included, which a cross-site
    script can read (cross-site tracing). One issue for the API.
    """
    marker = f"apiward-{secrets.token_hex(6)}"
    for path in _trace_paths(ctx):
        for method in ("TRACE", "TRACK"):
            answer = await ctx.send(method, path, headers={_ECHO_HEADER: marker}, credentials=False)
            if answer.ok and marker in answer.text:
                ctx.report(
                    Issue(
                        f"{method} {path} answered {answer.status} echoing the request and its "
                        f"headers back (the {_ECHO_HEADER} header sent came back)",
                        exchanges=[answer],
                        confidence="certain",
                        key="trace",
                    )
                )
                return


def _trace_paths(ctx: ScanContext) -> list[str]:
    paths = ["/"]
    for answer in ctx.seen.values():
        if answer.ok and answer.method == "GET":
            paths.append(answer.path[len(urlsplit(ctx.client.base_url).path.rstrip("/")) :])
            break
    return list(dict.fromkeys(p or "/" for p in paths))
