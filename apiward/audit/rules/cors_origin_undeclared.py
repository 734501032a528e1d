from __future__ import annotations

from collections.abc import Iterator

from apiward.audit.operation_groups import per_operation
from apiward.audit.rule import Hit, rule
from apiward.core import Document, Operation, Owasp, Severity

_HEADER = "access-control-allow-origin"


@rule(
    severity=Severity.LOW,
    category=Owasp.API8,
    cwe=942,
    remediation="Declare the `Access-Control-Allow-Origin` response header (with the "
    "allowed origins, or `null` for none) so the CORS policy is reviewed and tested.",
)
def cors_origin_undeclared(doc: Document) -> Iterator[Hit]:
    """Operation does not document its CORS policy.

    Checks that some response of each operation (OPTIONS aside) declares the
    `Access-Control-Allow-Origin` header. The CORS policy decides which
    websites can call the API from a user's browser with the user's
    credentials; when the contract does not state it, a permissive policy
    (any origin, or the caller's origin reflected) goes unnoticed. One
    declaring response per operation is enough. When most operations declare
    none, that is one API-wide finding at `/paths`.

    Equivalent: Spectral owasp:api8:2023-define-cors-origin.
    """
    found: list[tuple[Operation, str]] = []
    considered = 0
    for op in doc.operations:
        if op.method == "OPTIONS":
            continue
        considered += 1
        if not any(name.lower() == _HEADER for r in op.responses.values() for name in r.headers):
            found.append((op, f"{op.key} declares no Access-Control-Allow-Origin header"))
    yield from per_operation(
        doc,
        found,
        considered,
        lambda share: f"{share} operations declare no Access-Control-Allow-Origin header",
    )
