from __future__ import annotations

from collections.abc import Iterator

from apiward.audit.rule import Hit, rule
from apiward.audit.rules._auth import operations_using
from apiward.core import Document, Owasp, Severity


@rule(
    severity=Severity.MEDIUM,
    category=Owasp.API2,
    cwe=522,
    remediation="Replace HTTP Basic with short-lived tokens (OAuth 2 / OpenID Connect) or, "
    "for machine clients, revocable API keys or mutual TLS.",
)
def http_basic_auth(doc: Document) -> Iterator[Hit]:
    """Security scheme uses HTTP Basic authentication.

    Checks `http` security schemes whose `scheme` is `basic`. Basic sends the
    user's reusable password, merely base64-encoded, with every request: one
    leak (a log, a proxy, a misrouted request) gives away the account, it
    cannot be scoped or expired, and it invites brute force and credential
    stuffing. Reported once per scheme, with the operations that use it.

    Equivalent: Spectral owasp:api2:2023-no-http-basic.
    """
    for name, scheme in doc.security_schemes.items():
        if scheme.type.lower() == "http" and scheme.scheme == "basic":
            yield Hit(
                scheme.location,
                f"security scheme {name} uses HTTP Basic (a password on every request)",
                usages=operations_using(doc, name),
            )
