from __future__ import annotations

from collections.abc import Iterator

from apiward.audit.rule import Hit, rule
from apiward.audit.rules._auth import operations_using
from apiward.core import Document, Owasp, Severity

_WHY = {
    "negotiate": "Negotiate (falls back to NTLM, open to relay attacks)",
    "ntlm": "NTLM (open to relay and pass-the-hash attacks)",
    "oauth": "OAuth 1.0 (superseded, signature handling is error-prone)",
    "digest": "Digest (MD5-based, the server keeps password equivalents)",
}


@rule(
    severity=Severity.MEDIUM,
    category=Owasp.API2,
    cwe=1390,
    remediation="Use bearer tokens from OAuth 2 / OpenID Connect, or mutual TLS, instead.",
)
def insecure_auth_scheme(doc: Document) -> Iterator[Hit]:
    """Security scheme uses an outdated HTTP authentication scheme.

    Checks `http` security schemes whose `scheme` is `negotiate`, `ntlm`,
    `oauth` (OAuth 1.0) or `digest`. These schemes are weak by design or
    superseded: NTLM can be relayed, Digest relies on MD5 and forces the server
    to store password equivalents, OAuth 1.0 is retired. HTTP Basic has its
    own rule, http-basic-auth.

    Equivalent: Spectral owasp:api2:2023-auth-insecure-schemes.
    """
    for name, scheme in doc.security_schemes.items():
        if scheme.type.lower() == "http" and scheme.scheme in _WHY:
            yield Hit(
                scheme.location,
                f"security scheme {name} uses {_WHY[scheme.scheme]}",
                usages=operations_using(doc, name),
            )
