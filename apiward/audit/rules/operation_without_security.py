from __future__ import annotations

from collections.abc import Iterator

from apiward.audit.operation_groups import per_operation
from apiward.audit.rule import Hit, rule
from apiward.core import Document, Owasp, Severity


@rule(
    severity=Severity.HIGH,
    category=Owasp.API2,
    cwe=306,
    remediation="Declare a `security` requirement on the operation or globally. If it is "
    "meant to be public, say so explicitly with `security: []`.",
)
def operation_without_security(doc: Document) -> Iterator[Hit]:
    """Operation has no security requirement at all.

    Neither the operation nor the document declares `security`, so nothing in the
    contract says who may call it. An explicit `security: []` or an anonymous
    `{}` alternative (public on purpose) does not fire this rule: those are
    reported by public-write-operation and public-read-operation, so each
    operation gets at most one of the three. When most operations have none,
    the root cause is the document: one finding at `/paths` lists them all.
    """
    found = [
        (op, f"{op.key} declares no security requirement")
        for op in doc.operations
        if op.security is None and not doc.security
    ]
    yield from per_operation(
        doc,
        found,
        len(doc.operations),
        lambda share: (
            f"{share} operations declare no security requirement, "
            "and the document sets no default `security`"
        ),
    )
