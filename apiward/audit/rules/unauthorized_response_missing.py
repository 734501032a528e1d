from __future__ import annotations

from collections.abc import Iterator

from apiward.audit.operation_groups import has_body, per_operation
from apiward.audit.rule import Hit, rule
from apiward.core import Document, Owasp, Severity


@rule(
    severity=Severity.LOW,
    category=Owasp.API8,
    cwe=209,
    remediation="Declare a 401 response with an error schema on every operation that "
    "requires authentication (a shared `components/responses` entry keeps it short).",
    group="data",
)
def unauthorized_response_missing(doc: Document) -> Iterator[Hit]:
    """Authenticated operation declares no 401 response.

    Checks every operation whose effective security requires credentials for
    a 401 response with content. Without it the contract does not say what an
    unauthenticated caller gets back, and contract tests cannot check that the
    answer is a clean error rather than a backtrace or, worse, data. Public
    operations (no security, or an anonymous `{}` alternative) are skipped:
    they never answer 401. A 401 without `content` is reported too. When most
    such operations lack it, it is one API-wide finding at `/paths`.

    Equivalent: Spectral owasp:api8:2023-define-error-responses-401.
    """
    found = []
    considered = 0
    for op in doc.operations:
        if not op.requires_auth:
            continue
        considered += 1
        if "401" not in op.responses:
            found.append((op, f"{op.key} requires authentication but declares no 401 response"))
        elif not has_body(op, "401"):
            found.append((op, f"{op.key} declares a 401 response without content"))
    yield from per_operation(
        doc,
        found,
        considered,
        lambda share: f"{share} authenticated operations declare no 401 response with content",
    )
