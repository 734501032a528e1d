from __future__ import annotations

from collections.abc import Iterator

from apiward.audit.rule import Hit, rule
from apiward.audit.schema_groups import (
    Labels,
    grouped,
    has_maximum,
    has_minimum,
    has_type,
    is_input,
    listing,
    plural,
)
from apiward.core import Document, Owasp, Severity


@rule(
    severity=Severity.LOW,
    category=Owasp.API4,
    cwe=20,
    remediation="Add `format: int32` or `format: int64` to integers clients send, or bound "
    "them with `minimum` and `maximum`.",
    group="data",
)
def integer_without_format(doc: Document) -> Iterator[Hit]:
    """Integer input has no format (int32 or int64).

    Checks every schema of type `integer` that a client can send (reachable
    from a request, or not used by any operation; response-only and `readOnly`
    schemas are skipped) for a `format`. Without one, nothing says how large a
    value the server must handle, and arbitrary-precision parsers will accept
    a thousand-digit number. Integers already bounded by both `minimum` and
    `maximum`, or by `enum`/`const`, are left alone: their size is known.
    One finding per root schema names the integers concerned.

    Equivalent: Spectral owasp:api4:2023-integer-format.
    """
    index = doc.schema_index
    names = Labels(doc)
    found = (
        (node, names(node))
        for node in index
        if has_type(node.data, "integer")
        and "format" not in node.data
        and not _bounded(node.data)
        and is_input(index, node)
    )
    yield from grouped(
        found,
        lambda names: f"{plural(len(names), 'integer')} without format: {listing(names)}",
    )


def _bounded(schema: dict[str, object]) -> bool:
    return "enum" in schema or "const" in schema or (has_minimum(schema) and has_maximum(schema))
