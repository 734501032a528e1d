from __future__ import annotations

from collections.abc import Iterator

from apiward.audit.rule import Hit, rule
from apiward.audit.rules._auth import flows, operations_using
from apiward.core import Document, Owasp, Severity

_WHY = {
    "implicit": "the implicit flow (tokens travel in URLs, no sender binding)",
    "password": "the password flow (the client handles the user's password)",
}


@rule(
    severity=Severity.MEDIUM,
    category=Owasp.API2,
    cwe=1390,
    remediation="Use the authorization code flow with PKCE for users, and client "
    "credentials for machine clients.",
)
def oauth2_deprecated_flow(doc: Document) -> Iterator[Hit]:
    """OAuth2 scheme offers the implicit or password flow.

    Checks the flows of `oauth2` security schemes. The OAuth 2.0 Security Best
    Current Practice (RFC 9700) says the implicit flow must not be used
    (access tokens are returned in the URL and can leak or be injected) and
    the resource owner password flow must not be used (it hands the user's
    password to the client and cannot support MFA); OAuth 2.1 removes both.
    Reported once per flow.
    """
    for name, scheme in doc.security_schemes.items():
        for flow_name, _, loc in flows(scheme):
            if flow_name in _WHY:
                yield Hit(
                    loc,
                    f"OAuth2 scheme {name} offers {_WHY[flow_name]}",
                    usages=operations_using(doc, name),
                )
