from __future__ import annotations

from collections.abc import Iterator

from apiward.audit.rule import Hit, rule
from apiward.audit.rules._servers import all_servers, cleartext, host_of, is_loopback
from apiward.core import Document, Owasp, Severity


@rule(
    severity=Severity.LOW,
    category=Owasp.API8,
    cwe=319,
    remediation="Keep local servers out of the published document, or serve them over TLS "
    "too so development matches production.",
)
def loopback_server_without_tls(doc: Document) -> Iterator[Hit]:
    """Local server uses plain HTTP.

    Checks servers on a loopback host (localhost, 127.0.0.1, ::1) for an
    `http://` or `ws://` URL. Traffic to the local machine does not cross a
    network, so this is low risk, but a published document listing a local
    plain-HTTP server invites clients to be configured without TLS, and a
    development setup without TLS hides TLS-only bugs (secure cookies, HSTS).
    Non-local servers are reported by server-without-tls.

    Equivalent: Spectral owasp:api8:2023-no-server-http (for local servers).
    """
    for server, usages in all_servers(doc):
        how = cleartext(server)
        if how is not None and is_loopback(host_of(server)):
            yield Hit(server.location, f"local server {server.url} {how}", usages)
