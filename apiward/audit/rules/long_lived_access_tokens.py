from __future__ import annotations

from collections.abc import Iterator

from apiward.audit.rule import Hit, rule
from apiward.audit.rules._auth import flows, operations_using
from apiward.core import Document, Owasp, Severity


@rule(
    severity=Severity.LOW,
    category=Owasp.API2,
    cwe=613,
    remediation="Issue short-lived access tokens with refresh tokens, and declare the "
    "flow's `refreshUrl` (even when it is the same as `tokenUrl`).",
)
def long_lived_access_tokens(doc: Document) -> Iterator[Hit]:
    """OAuth2 flow declares no refresh URL, so access tokens are likely long-lived.

    Checks the `authorizationCode` and `password` flows of `oauth2` schemes
    for a `refreshUrl`. Without refresh tokens, access tokens must live as long
    as a user's session, so a stolen token stays useful for that long. The
    `clientCredentials` flow is skipped (RFC 6749 section 4.4.3: no refresh
    tokens there, the client simply asks again) and so is `implicit`, which
    cannot refresh at all and is reported by oauth2-deprecated-flow.

    Equivalent: Spectral owasp:api2:2023-short-lived-access-tokens.
    """
    for name, scheme in doc.security_schemes.items():
        for flow_name, flow, loc in flows(scheme):
            if flow_name in ("authorizationCode", "password") and not flow.get("refreshUrl"):
                yield Hit(
                    loc,
                    f"OAuth2 scheme {name}: {flow_name} flow declares no refreshUrl",
                    usages=operations_using(doc, name),
                )
