from __future__ import annotations

from collections.abc import Iterator

from apiward.audit.operation_groups import per_operation, response_keys
from apiward.audit.rule import Hit, rule
from apiward.core import Document, Owasp, Severity

_ACCEPTED = frozenset({"400", "422", "4XX"})


@rule(
    severity=Severity.LOW,
    category=Owasp.API8,
    cwe=20,
    remediation="Declare a 400 (or 422, or 4XX) response with an error schema on every "
    "operation that takes input, and make the API answer invalid requests with it.",
    group="data",
)
def validation_error_response_missing(doc: Document) -> Iterator[Hit]:
    """Operation declares no response for invalid input (400, 422 or 4XX).

    Checks every operation that takes input (a parameter or a request body)
    for a 400, 422 or 4XX response. Without one the contract does not say what
    happens to invalid input, so clients cannot rely on it and contract tests
    cannot check that validation errors do not leak internals. Operations with
    no parameters and no body cannot receive invalid input and are skipped.
    When most operations lack it, it is one API-wide finding at `/paths`.

    Equivalent: Spectral owasp:api8:2023-define-error-validation.
    """
    found = []
    considered = 0
    for op in doc.operations:
        if not op.parameters and op.request_body is None:
            continue
        considered += 1
        if not response_keys(op) & _ACCEPTED:
            found.append((op, f"{op.key} declares no 400, 422 or 4XX response"))
    yield from per_operation(
        doc,
        found,
        considered,
        lambda share: f"{share} operations that take input declare no 400, 422 or 4XX response",
    )
