from __future__ import annotations

from collections.abc import Iterator

from apiward.audit.rule import Hit, rule
from apiward.audit.rules._auth import WRITE_METHODS, anonymous_source, is_auth_endpoint
from apiward.core import Document, Location, OperationRef, Owasp, Severity


@rule(
    severity=Severity.HIGH,
    category=Owasp.API2,
    cwe=306,
    remediation="Require a security scheme on every write operation and drop the empty "
    "`{}` alternative (or `security: []`) unless anonymous writes are truly intended.",
)
def public_write_operation(doc: Document) -> Iterator[Hit]:
    """Write operation accepts anonymous callers.

    Checks POST, PUT, PATCH and DELETE operations whose declared security is
    empty (`security: []`) or offers an anonymous `{}` alternative: anyone can
    create, change or delete data. Operations with no security declared at all
    are reported by operation-without-security instead, so each problem is
    reported once. POSTs to login, registration, token and password-reset
    endpoints are skipped: they must accept anonymous callers. When the
    anonymous access comes from the global `security`, it is reported once
    there, with the write operations it opens.

    Equivalent: Spectral owasp:api2:2023-write-restricted.
    """
    inherited: list[OperationRef] = []
    for op in doc.operations:
        if op.method not in WRITE_METHODS or is_auth_endpoint(op):
            continue
        source = anonymous_source(doc, op, only=False)
        if source is None:
            continue
        if source != op.location:
            inherited.append(op.ref)
        elif op.effective_security:
            yield Hit(op.location, f"{op.key} accepts anonymous callers (an empty {{}} security)")
        else:
            yield Hit(op.location, f"{op.key} is explicitly public (security: [])")
    if inherited:
        yield Hit(
            Location(doc.uri, "/security"),
            f"global security accepts anonymous callers, leaving {len(inherited)} write "
            "operation(s) open",
            usages=tuple(inherited),
        )
