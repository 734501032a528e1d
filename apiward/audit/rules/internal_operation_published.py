from __future__ import annotations

from collections.abc import Iterator

from apiward.audit.rule import Hit, rule
from apiward.core import Document, Location, Operation, OperationRef, Owasp, Severity
from apiward.errors import RefError


@rule(
    severity=Severity.MEDIUM,
    category=Owasp.API9,
    cwe=668,
    remediation="Publish a separate document without internal operations (most tools can "
    "filter on `x-internal`), and keep internal endpoints off public servers.",
)
def internal_operation_published(doc: Document) -> Iterator[Hit]:
    """Operation marked internal is in the document.

    Checks for operations and path items with `x-internal: true`. They tell
    every reader of the document about endpoints that were not meant for
    them, typically with weaker protection than public ones. A document that
    marks itself internal (`x-internal: true` at the top level or in `info`)
    is not checked. A path item marked internal is reported once, at the path.
    """
    info = doc.raw.get("info")
    if doc.raw.get("x-internal") is True or (
        isinstance(info, dict) and info.get("x-internal") is True
    ):
        return
    items: dict[Location, list[OperationRef]] = {}
    for op in doc.operations:
        item = _path_item(op)
        if _marked(doc, item):
            items.setdefault(item, []).append(op.ref)
        elif op.raw.get("x-internal") is True:
            yield Hit(op.location, f"{op.key} is marked internal (x-internal: true)")
    for item, usages in items.items():
        path = usages[0].key.split(" ", 1)[1]
        yield Hit(item, f"path {path} is marked internal (x-internal: true)", tuple(usages))


def _path_item(op: Operation) -> Location:
    return Location(op.location.file, op.location.pointer.rsplit("/", 1)[0])


def _marked(doc: Document, item: Location) -> bool:
    try:
        raw = doc.node(item)
    except RefError:
        return False
    return isinstance(raw, dict) and raw.get("x-internal") is True
