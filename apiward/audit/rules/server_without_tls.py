from __future__ import annotations

from collections.abc import Iterator

from apiward.audit.rule import Hit, rule
from apiward.audit.rules._servers import all_servers, cleartext, host_of, is_loopback
from apiward.core import Document, Owasp, Severity


@rule(
    severity=Severity.HIGH,
    category=Owasp.API8,
    cwe=319,
    remediation="Serve the API over TLS only: list `https://` (or `wss://`) server URLs and "
    "redirect or refuse plain HTTP.",
)
def server_without_tls(doc: Document) -> Iterator[Hit]:
    """Server uses plain HTTP.

    Checks every server (top level, path and operation) for an `http://` or
    `ws://` URL, including a `{scheme}` variable whose default or enum allows
    one. Without TLS, credentials, tokens and personal data cross the network
    in clear text and can be read or altered by anyone on the path. Loopback
    hosts (localhost, 127.0.0.1) are reported by loopback-server-without-tls
    at a lower severity; relative URLs inherit the document's own scheme.

    Equivalent: Spectral owasp:api8:2023-no-server-http and owasp:api8:2023-no-scheme-http.
    """
    for server, usages in all_servers(doc):
        how = cleartext(server)
        if how is not None and not is_loopback(host_of(server)):
            yield Hit(server.location, f"server {server.url} {how}", usages)
