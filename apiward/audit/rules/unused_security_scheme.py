from __future__ import annotations

from collections.abc import Iterator

from apiward.audit.rule import Hit, rule
from apiward.audit.rules._auth import requirements
from apiward.core import Document, Owasp, Severity


@rule(
    severity=Severity.LOW,
    category=Owasp.API9,
    cwe=1059,
    remediation="Reference the scheme in a `security` requirement where it applies, or delete it.",
)
def unused_security_scheme(doc: Document) -> Iterator[Hit]:
    """Security scheme is defined but never used.

    Checks that each `components.securitySchemes` entry is named by at least
    one security requirement (global, operation, webhook or callback). An
    unused scheme often means operations that were meant to be protected are
    not, and otherwise it documents an authentication method the API does not
    accept, which misleads clients and reviewers.
    """
    used = {name for req in requirements(doc) for name in req.schemes}
    for name, scheme in doc.security_schemes.items():
        if str(name) not in used:
            yield Hit(scheme.location, f"security scheme {name} is not used by any operation", ())
