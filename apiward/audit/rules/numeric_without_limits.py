from __future__ import annotations

from collections.abc import Iterator

from apiward.audit.rule import Hit, rule
from apiward.audit.schema_groups import (
    Labels,
    grouped,
    has_maximum,
    has_minimum,
    is_input,
    listing,
    plural,
)
from apiward.core import Document, Owasp, Severity


@rule(
    severity=Severity.MEDIUM,
    category=Owasp.API4,
    cwe=1284,
    remediation="Give every integer and number a client can send a `minimum` and a "
    "`maximum` (or an `enum`) that fit what the API really expects: no negative "
    "quantities, no page size of a billion.",
    group="data",
)
def numeric_without_limits(doc: Document) -> Iterator[Hit]:
    """Numeric input has no minimum or no maximum.

    Checks every schema of type `integer` or `number` that a client can send
    (reachable from a request, or not used by any operation; response-only and
    `readOnly` schemas are skipped on purpose) for both bounds. A bound is
    `minimum`/`maximum`, or in OpenAPI 3.1 a numeric `exclusiveMinimum`/
    `exclusiveMaximum`; OpenAPI 3.0's boolean `exclusiveMinimum: true` only
    modifies `minimum` and is not a bound by itself. `enum` and `const` bound a
    value too. Unbounded numbers invite negative amounts, huge page sizes and
    loop counts. Spectral checks integers only; numbers carry the same risk.
    One finding per root schema names the values and which bound is missing.

    Equivalent: Spectral owasp:api4:2023-integer-limit (3.1) and
    owasp:api4:2023-integer-limit-legacy (3.0).
    """
    index = doc.schema_index
    names = Labels(doc)
    found = []
    for node in index:
        types = node.types
        if "integer" not in types and "number" not in types:
            continue
        data = node.data
        if "enum" in data or "const" in data:
            continue
        low, high = has_minimum(data), has_maximum(data)
        if (low and high) or not is_input(index, node):
            continue
        missing = "no maximum" if low else "no minimum" if high else "no bounds"
        found.append((node, f"{names(node)} ({missing})"))
    yield from grouped(
        found,
        lambda names: (
            f"{plural(len(names), 'number')} without minimum and maximum: {listing(names)}"
        ),
    )
