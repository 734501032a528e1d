from __future__ import annotations

from collections.abc import Iterator

from apiward.audit.rule import Hit, rule
from apiward.audit.schema_groups import Labels, grouped, has_type, is_input, listing, plural
from apiward.core import Document, Owasp, Severity


@rule(
    severity=Severity.MEDIUM,
    category=Owasp.API4,
    cwe=770,
    remediation="Give every array a client can send a `maxItems` that fits what the API "
    "really needs (and bound its items too), and enforce it before processing.",
    group="data",
)
def array_without_max_items(doc: Document) -> Iterator[Hit]:
    """Array input has no maximum number of items.

    Checks every schema of type `array` (3.0 `type`, 3.1 type arrays) that a
    client can send: reachable from a request or not used by any operation.
    Response-only and `readOnly` schemas are skipped on purpose: size limits
    protect the server from its input. An array is bounded by `maxItems`, an
    `enum`/`const`, or a closed tuple (`items: false` after `prefixItems`).
    Without a bound one request can carry millions of elements, each of which
    the server parses, validates and maybe stores or loops over.
    One finding per root schema names the arrays concerned.

    Equivalent: Spectral owasp:api4:2023-array-limit.
    """
    index = doc.schema_index
    names = Labels(doc)
    found = (
        (node, names(node))
        for node in index
        if has_type(node.data, "array") and not _bounded(node.data) and is_input(index, node)
    )
    yield from grouped(
        found, lambda names: f"{plural(len(names), 'array')} without maxItems: {listing(names)}"
    )


def _bounded(schema: dict[str, object]) -> bool:
    return (
        "maxItems" in schema
        or "enum" in schema
        or "const" in schema
        or (schema.get("items") is False and "prefixItems" in schema)
    )
