from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from apiward.audit.rule import Hit, rule
from apiward.audit.schema_groups import accepts_anything, listing
from apiward.core import Document, Location, Owasp, RequestBody, Severity
from apiward.errors import ApiwardError


@rule(
    severity=Severity.MEDIUM,
    category=Owasp.API8,
    cwe=20,
    remediation="Give every request body media type a schema that describes exactly what "
    "the operation accepts (types, required properties, sizes), and validate against it.",
    group="data",
)
def request_body_without_schema(doc: Document) -> Iterator[Hit]:
    """Request body accepts anything (no schema).

    Checks every request body for media types without a schema, or with one
    that accepts any value (`{}`, `true`, or only annotations such as a
    `description`), and for bodies that declare no media type at all. Nothing
    then says what the server accepts, so nothing can be validated, bounded
    or tested; it is also where parsers of every format the framework knows
    get reached. A request body shared through `components/requestBodies` is
    one finding, used by every operation that references it.
    """
    seen: set[Location] = set()
    for op in doc.operations:
        body = op.request_body
        if body is None or body.location in seen:
            continue
        seen.add(body.location)
        if not body.content:
            yield Hit(body.location, "request body declares no media type: anything is accepted")
            continue
        open_types = [
            mt for mt, media in body.content.items() if _open(doc, body, mt, media.schema)
        ]
        if open_types:
            yield Hit(
                body.location,
                f"request body accepts anything as {listing(open_types)} (no schema)",
            )


def _open(doc: Document, body: RequestBody, media_type: str, schema: Any) -> bool:
    if schema is not None:
        return accepts_anything(schema.data)
    try:
        raw = doc.node(body.content[media_type].location)
    except ApiwardError:
        return True
    # `schema: false` accepts nothing, which is closed, not open
    return not (isinstance(raw, dict) and raw.get("schema") is False)
