from __future__ import annotations

from collections.abc import Iterator

from apiward.audit.operation_groups import per_operation
from apiward.audit.rule import Hit, rule
from apiward.audit.rules._auth import READ_METHODS, anonymous_source, is_public_infra
from apiward.core import Document, Location, Operation, OperationRef, Owasp, Severity


@rule(
    severity=Severity.LOW,
    category=Owasp.API2,
    cwe=306,
    remediation="Require a security scheme on read operations that return anything but "
    "public data; keep `security: []` for what is meant for everyone.",
)
def public_read_operation(doc: Document) -> Iterator[Hit]:
    """Read operation is explicitly public.

    Checks GET and HEAD operations whose declared security accepts only
    anonymous callers (`security: []` or only `{}`): confirm that what they
    return is meant for everyone. Optional authentication (`{}` next to a real
    scheme) is accepted, operations with no security declared at all are
    reported by operation-without-security, and health checks, API
    descriptions and key sets without path parameters are skipped. When most
    read operations are public, that is one API-wide finding at `/paths`; when
    the global `security` makes them public, one finding there.

    Equivalent: Spectral owasp:api2:2023-read-restricted.
    """
    found: list[tuple[Operation, str]] = []
    inherited: list[OperationRef] = []
    considered = 0
    for op in doc.operations:
        if op.method not in READ_METHODS or is_public_infra(op):
            continue
        if op.security is None and not doc.security:
            continue
        considered += 1
        source = anonymous_source(doc, op, only=True)
        if source is None:
            continue
        if source == op.location:
            found.append((op, f"{op.key} is explicitly public"))
        else:
            inherited.append(op.ref)
    if inherited:
        yield Hit(
            Location(doc.uri, "/security"),
            f"global security accepts only anonymous callers, making {len(inherited)} read "
            "operation(s) public",
            usages=tuple(inherited),
        )
    yield from per_operation(
        doc, found, considered, lambda share: f"{share} read operations are explicitly public"
    )
