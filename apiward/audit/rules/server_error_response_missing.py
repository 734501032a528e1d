from __future__ import annotations

from collections.abc import Iterator

from apiward.audit.operation_groups import has_body, per_operation
from apiward.audit.rule import Hit, rule
from apiward.core import Document, Owasp, Severity

# OpenAPI applies 5XX, then default, to a 500 that is not listed itself
_COVERING = ("500", "5XX", "default")


@rule(
    severity=Severity.LOW,
    category=Owasp.API8,
    cwe=209,
    remediation="Declare a 500 (or 5XX, or default) response with a generic error schema, "
    "and make the API answer unexpected failures with it, never with a stack trace.",
    group="data",
)
def server_error_response_missing(doc: Document) -> Iterator[Hit]:
    """Operation declares no response for server errors (500, 5XX or default).

    Checks every operation for a response that covers a 500 and has content:
    `500`, else `5XX`, else `default` (OpenAPI applies them in that order to an
    undeclared status; Spectral accepts `500` only). Without one the contract
    says nothing about what a failure looks like, and contract tests cannot
    check that failures are not answered with stack traces or internal
    messages. When most operations lack it, it is one API-wide finding at
    `/paths` listing them.

    Equivalent: Spectral owasp:api8:2023-define-error-responses-500.
    """
    found = []
    operations = doc.operations
    for op in operations:
        keys = {k.upper(): k for k in op.responses}
        covering = next((keys[c.upper()] for c in _COVERING if c.upper() in keys), None)
        if covering is None:
            found.append((op, f"{op.key} declares no 500, 5XX or default response"))
        elif not has_body(op, covering):
            found.append((op, f"{op.key} declares its {covering} response without content"))
    yield from per_operation(
        doc,
        found,
        len(operations),
        lambda share: f"{share} operations declare no 500, 5XX or default response with content",
    )
