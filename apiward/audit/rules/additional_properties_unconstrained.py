from __future__ import annotations

from collections.abc import Iterator

from apiward.audit.rule import Hit, rule
from apiward.audit.schema_groups import Labels, accepts_anything, grouped, is_input, listing, plural
from apiward.core import Document, Owasp, SchemaNode, Severity


@rule(
    severity=Severity.MEDIUM,
    category=Owasp.API3,
    cwe=915,
    remediation="Set `additionalProperties: false` (3.1 with composition: "
    "`unevaluatedProperties: false`) and list the properties clients may send; for a "
    "real map, give the values a schema and the map a `maxProperties`.",
    group="data",
)
def additional_properties_unconstrained(doc: Document) -> Iterator[Hit]:
    """Object input accepts any extra property.

    Checks object schemas a client can send (reachable from a request, or not
    used by any operation; response-only and `readOnly` schemas are skipped on
    purpose) whose `additionalProperties` or `unevaluatedProperties` is `true`
    or an empty schema (`{}`): any property name with any value is valid, so
    fields the API never meant to expose to clients (`role`, `owner_id`...) can
    be sent and may be bound straight onto server-side objects (mass
    assignment). Like Spectral, an object that leaves the keywords out is not
    flagged. A typed map (a non-empty schema) is
    `additional-properties-unbounded`'s business, so nothing is reported twice.
    One finding per root schema names the objects concerned.

    Equivalent: Spectral owasp:api3:2023-no-additionalProperties (3.0) and
    owasp:api3:2023-no-unevaluatedProperties (3.1).
    """
    index = doc.schema_index
    names = Labels(doc)
    found = []
    for node in index:
        keyword = _open_keyword(node)
        if keyword is not None and is_input(index, node):
            found.append((node, f"{names(node)} ({keyword})"))
    yield from grouped(
        found,
        lambda names: (
            f"{plural(len(names), 'object')} accepting any extra property: {listing(names)}"
        ),
    )


def _open_keyword(node: SchemaNode) -> str | None:
    types = node.types
    if types and "object" not in types:
        return None
    for keyword in ("additionalProperties", "unevaluatedProperties"):
        if keyword in node.data and accepts_anything(node.data[keyword]):
            return keyword
    return None
