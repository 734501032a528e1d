from __future__ import annotations

from collections.abc import Iterator

from apiward.audit.rule import Hit, rule
from apiward.audit.rules._auth import flows, operations_using
from apiward.core import Document, Owasp, Severity


@rule(
    severity=Severity.LOW,
    category=Owasp.API5,
    cwe=1220,
    remediation="Declare scopes for each kind of access (e.g. `orders:read`, "
    "`orders:write`, `admin`) and require the narrowest one on each operation.",
)
def oauth2_empty_scopes(doc: Document) -> Iterator[Hit]:
    """OAuth2 flow declares no scopes.

    Checks every flow of `oauth2` security schemes for a non-empty `scopes`
    map. Without scopes every token grants everything the API can do: a token
    issued to a read-only integration can delete data, and admin functions
    cannot be told apart from user functions. Reported once per flow.
    """
    for name, scheme in doc.security_schemes.items():
        for flow_name, flow, loc in flows(scheme):
            scopes = flow.get("scopes")
            if not isinstance(scopes, dict) or not scopes:
                yield Hit(
                    loc,
                    f"OAuth2 scheme {name}: {flow_name} flow declares no scopes",
                    usages=operations_using(doc, name),
                )
