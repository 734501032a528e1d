from __future__ import annotations

from collections.abc import Iterator

from apiward.audit.rule import Hit, rule
from apiward.core import Document, Owasp, Severity


@rule(
    severity=Severity.LOW,
    category=Owasp.API9,
    cwe=1059,
    remediation="Plan its retirement: announce a date (`Sunset` header, RFC 8594), move "
    "clients off it, then remove it from the API and the document.",
)
def deprecated_operation(doc: Document) -> Iterator[Hit]:
    """Deprecated operation is still published.

    Checks for operations marked `deprecated: true`. A deprecated operation is
    still served, but it tends to fall out of testing, monitoring and security
    fixes while attackers keep calling it: old versions are where weaker
    authentication and missing validation survive. Each one is a reminder to
    retire it.
    """
    for op in doc.operations:
        if op.deprecated:
            yield Hit(op.location, f"{op.key} is deprecated but still published")
