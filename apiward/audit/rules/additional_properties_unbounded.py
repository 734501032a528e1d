from __future__ import annotations

from collections.abc import Iterator

from apiward.audit.rule import Hit, rule
from apiward.audit.schema_groups import Labels, accepts_anything, grouped, is_input, listing, plural
from apiward.core import Document, Owasp, SchemaNode, Severity


@rule(
    severity=Severity.LOW,
    category=Owasp.API4,
    cwe=770,
    remediation="Give maps a client can send a `maxProperties`, or replace them with an "
    "object of named properties and `additionalProperties: false`.",
    group="data",
)
def additional_properties_unbounded(doc: Document) -> Iterator[Hit]:
    """Map input has no maximum number of entries.

    Checks object schemas a client can send (reachable from a request, or not
    used by any operation; response-only and `readOnly` schemas are skipped on
    purpose) whose `additionalProperties` or `unevaluatedProperties` is a
    non-empty schema, i.e. a map with typed values, for a `maxProperties`.
    Without it a client can send any number of keys, each parsed, validated and
    maybe stored. Spectral files this under API3; the risk a `maxProperties`
    removes is resource consumption, so it is API4 here. Maps whose values are
    unconstrained are `additional-properties-unconstrained`'s business.
    One finding per root schema names the maps concerned.

    Equivalent: Spectral owasp:api3:2023-constrained-additionalProperties (3.0)
    and owasp:api3:2023-constrained-unevaluatedProperties (3.1).
    """
    index = doc.schema_index
    names = Labels(doc)
    found = (
        (node, names(node)) for node in index if _unbounded_map(node) and is_input(index, node)
    )
    yield from grouped(
        found,
        lambda names: f"{plural(len(names), 'map')} without maxProperties: {listing(names)}",
    )


def _unbounded_map(node: SchemaNode) -> bool:
    data = node.data
    if "maxProperties" in data:
        return False
    types = node.types
    if types and "object" not in types:
        return False
    return any(
        isinstance(data.get(keyword), dict) and not accepts_anything(data[keyword])
        for keyword in ("additionalProperties", "unevaluatedProperties")
    )
