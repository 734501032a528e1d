from __future__ import annotations

from collections.abc import Iterator

from apiward.audit.rule import Hit, rule
from apiward.audit.rules._servers import all_servers, raw_server
from apiward.core import Document, Owasp, Severity


@rule(
    severity=Severity.INFO,
    category=Owasp.API9,
    cwe=1059,
    remediation="Add `x-internal: true` or `x-internal: false` to each server.",
)
def server_audience_undeclared(doc: Document) -> Iterator[Hit]:
    """Server does not declare whether it is internal.

    Checks every server (top level, path and operation) for a boolean
    `x-internal`. Stating the audience of each server keeps internal hosts out
    of published documentation and makes the API inventory explicit; most
    documentation tools honour the flag. A non-boolean value is reported too.

    Equivalent: Spectral owasp:api9:2023-inventory-access.
    """
    for server, usages in all_servers(doc):
        raw = raw_server(doc, server)
        flag = raw.get("x-internal")
        if isinstance(flag, bool):
            continue
        if flag is None:
            message = f"server {server.url} does not say whether it is internal (x-internal)"
        else:
            message = f"server {server.url} has x-internal {flag!r}, not true or false"
        yield Hit(server.location, message, usages)
