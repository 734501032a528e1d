from __future__ import annotations

from collections.abc import Iterator

from apiward.audit.rule import Hit, rule
from apiward.audit.rules._auth import requirements
from apiward.core import Document, Owasp, Severity


@rule(
    severity=Severity.MEDIUM,
    category=Owasp.API2,
    cwe=287,
    remediation="Define the scheme under `components.securitySchemes`, or fix the name in "
    "the requirement (names are case-sensitive).",
)
def undefined_security_scheme(doc: Document) -> Iterator[Hit]:
    """Security requirement names an undefined security scheme.

    Checks every security requirement (global, operation, webhook, callback)
    for scheme names missing from `components.securitySchemes`. Such a
    requirement cannot be enforced: gateways and generated servers either
    reject the document or silently skip the check, leaving the operation
    open. Reported once per requirement, at the requirement.
    """
    defined = {str(name) for name in doc.security_schemes}
    for req in requirements(doc):
        missing = sorted(name for name in req.schemes if name not in defined)
        if missing:
            names = ", ".join(missing)
            noun = "schemes" if len(missing) > 1 else "scheme"
            yield Hit(
                req.location,
                f"security requirement names undefined {noun} {names}",
                usages=req.usages,
            )
