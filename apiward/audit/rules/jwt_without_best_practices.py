from __future__ import annotations

import re
from collections.abc import Iterator

from apiward.audit.rule import Hit, rule
from apiward.audit.rules._auth import operations_using
from apiward.core import Document, Owasp, SecurityScheme, Severity

_RFC8725 = re.compile(r"rfc[\s_-]*8725", re.IGNORECASE)


@rule(
    severity=Severity.LOW,
    category=Owasp.API2,
    cwe=347,
    remediation="Validate JWTs as RFC 8725 recommends (fixed algorithm allow-list, never "
    "`alg: none`, check `iss`, `aud` and `exp`) and say so in the scheme's `description`.",
)
def jwt_without_best_practices(doc: Document) -> Iterator[Hit]:
    """JWT security scheme does not declare RFC 8725 (JWT best practices).

    Checks security schemes that carry JWTs (a `bearerFormat` mentioning JWT,
    `oauth2` and `openIdConnect`) for a `description` citing RFC 8725. JWT
    libraries accept `alg: none`, confuse HMAC and RSA keys, or skip audience
    and expiry checks unless told otherwise; stating conformance to RFC 8725
    records that the implementation was configured against these pitfalls.
    "RFC 8725" and "RFC8725" are both accepted.

    Equivalent: Spectral owasp:api2:2023-jwt-best-practices.
    """
    for name, scheme in doc.security_schemes.items():
        if not _carries_jwt(scheme):
            continue
        description = scheme.raw.get("description")
        if isinstance(description, str) and _RFC8725.search(description):
            continue
        yield Hit(
            scheme.location,
            f"security scheme {name} uses JWTs but its description does not cite RFC 8725",
            usages=operations_using(doc, name),
        )


def _carries_jwt(scheme: SecurityScheme) -> bool:
    fmt = scheme.bearer_format
    if isinstance(fmt, str) and "jwt" in fmt.lower():
        return True
    return scheme.type.lower() in ("oauth2", "openidconnect")
