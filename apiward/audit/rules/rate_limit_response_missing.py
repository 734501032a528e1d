from __future__ import annotations

from collections.abc import Iterator

from apiward.audit.operation_groups import has_body, per_operation
from apiward.audit.rule import Hit, rule
from apiward.core import Document, Owasp, Severity


@rule(
    severity=Severity.LOW,
    category=Owasp.API4,
    cwe=770,
    remediation="Declare a 429 (Too Many Requests) response with a body schema and a "
    "`Retry-After` header on every operation (a shared `components/responses` entry).",
)
def rate_limit_response_missing(doc: Document) -> Iterator[Hit]:
    """Operation declares no 429 (Too Many Requests) response.

    Checks every operation for a 429 response with content. A documented 429
    shows the API (or its gateway) really rate-limits, tells clients what the
    error looks like, and lets contract tests check that the body does not
    leak internals. A 429 without `content` is reported too. When most
    operations lack it, it is one API-wide finding at `/paths` listing them.

    Equivalent: Spectral owasp:api4:2023-rate-limit-responses-429.
    """
    found = []
    operations = doc.operations
    for op in operations:
        if "429" not in op.responses:
            found.append((op, f"{op.key} declares no 429 response"))
        elif not has_body(op, "429"):
            found.append((op, f"{op.key} declares a 429 response without content"))
    yield from per_operation(
        doc,
        found,
        len(operations),
        lambda share: f"{share} operations declare no 429 response with content",
    )
