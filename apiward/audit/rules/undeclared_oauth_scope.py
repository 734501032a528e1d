from __future__ import annotations

from collections.abc import Iterator

from apiward.audit.rule import Hit, rule
from apiward.audit.rules._auth import declared_scopes, requirements
from apiward.core import Document, Owasp, Severity


@rule(
    severity=Severity.LOW,
    category=Owasp.API5,
    cwe=285,
    remediation="Declare the scope in the scheme's flows, or fix its spelling in the requirement.",
)
def undeclared_oauth_scope(doc: Document) -> Iterator[Hit]:
    """Security requirement asks for an OAuth2 scope the scheme does not declare.

    Checks every security requirement naming an `oauth2` scheme for scopes
    absent from all of that scheme's flows. A misspelt or undeclared scope is
    either never granted (the operation is unusable) or checked by nobody (the
    operation is less protected than the contract says). OpenID Connect
    schemes are skipped: their scopes are discovered at run time. So are
    schemes declaring no scopes at all: oauth2-empty-scopes reports those once.
    """
    schemes = {str(name): scheme for name, scheme in doc.security_schemes.items()}
    for req in requirements(doc):
        parts = []
        for name, scopes in req.schemes.items():
            scheme = schemes.get(name)
            if scheme is None or scheme.type != "oauth2":
                continue
            known = declared_scopes(scheme)
            if not known:
                continue  # oauth2-empty-scopes reports the scheme once
            unknown = sorted({s for s in scopes if s not in known})
            if unknown:
                parts.append(f"{', '.join(unknown)} of {name}")
        if parts:
            yield Hit(
                req.location,
                f"security requirement asks for undeclared scope(s) {'; '.join(parts)}",
                usages=req.usages,
            )
