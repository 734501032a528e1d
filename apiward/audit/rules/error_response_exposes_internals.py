from __future__ import annotations

from collections import deque
from collections.abc import Iterator

from apiward.audit.rule import Hit, rule
from apiward.audit.schema_groups import Labels, compact, grouped, listing, plural
from apiward.core import Document, Location, Owasp, SchemaNode, Severity
from apiward.errors import RefError

# property names (lower case, letters and digits only) that carry implementation details
_INTERNALS = frozenset(
    {"stack", "stacktrace", "stacktraces", "stackframes", "callstack", "backtrace", "traceback"}
    | {"trace", "errortrace", "exception", "exceptions", "exceptionclass", "exceptiontype"}
    | {"exceptionmessage", "innerexception", "debug", "debuginfo", "debugmessage", "debugdata"}
    | {"sql", "sqlquery", "sqlstate", "query", "internalerror", "internalmessage"}
)
# a source position: reported when an object has one of each
_FILES = frozenset({"file", "filename", "filepath", "sourcefile"})
_LINES = frozenset({"line", "lineno", "linenumber"})
_SUBSCHEMA_ONE = ("items", "additionalProperties", "unevaluatedProperties")
_SUBSCHEMA_MANY = ("allOf", "anyOf", "oneOf", "prefixItems")


@rule(
    severity=Severity.MEDIUM,
    category=Owasp.API8,
    cwe=209,
    remediation="Return a generic error body (a code, a human message, a correlation id "
    "for the logs) and keep stack traces, exceptions, queries and debug data in the "
    "server logs; remove those properties from error schemas.",
)
def error_response_exposes_internals(doc: Document) -> Iterator[Hit]:
    """Error response schema exposes internals (stack traces, exceptions, SQL).

    Checks the schemas of error responses (4XX, 5XX and `default`), following
    `$ref` and nested properties, items and `allOf`/`anyOf`/`oneOf` branches,
    for properties that carry implementation details: `stack`, `stackTrace`,
    `backtrace`, `traceback`, `trace`, `exception` (and its class, type and
    message), `debug` (and `debugInfo`...), `sql`, `sqlState`, `query`, and a
    `file` together with a `line`. Such errors tell an attacker the framework,
    the code layout, the database and how their input was used; they belong
    in the server's logs. Names must match whole (`traceId`, a correlation id,
    is fine). One finding per root schema names the properties concerned.
    """
    index = doc.schema_index
    starts: set[Location] = set()
    for op in doc.operations:
        for status, response in op.responses.items():
            if status[:1] in ("4", "5") or status.lower() == "default":
                starts.update(m.schema.location for m in response.content.values() if m.schema)
    if not starts:
        return
    by_loc = {node.location: node for node in index}
    children: dict[int, list[SchemaNode]] = {}
    for node in index:
        if node.parent is not None:
            children.setdefault(id(node.parent), []).append(node)
    queue = deque(by_loc[loc] for loc in starts if loc in by_loc)
    seen = {id(node) for node in queue}
    names = Labels(doc)
    found: list[tuple[SchemaNode, str]] = []
    while queue:
        node = queue.popleft()
        found.extend((node, names.child(node, key)) for key in _exposed(node))
        for nxt in [*children.get(id(node), ()), *_referenced(doc, node, by_loc)]:
            if id(nxt) not in seen:
                seen.add(id(nxt))
                queue.append(nxt)
    yield from grouped(
        found,
        lambda labels: (
            f"{plural(len(labels), 'property', 'properties')} exposing internals "
            f"in an error response: {listing(labels)}"
        ),
    )


def _exposed(node: SchemaNode) -> list[str]:
    props = node.data.get("properties")
    if not isinstance(props, dict):
        return []
    keys = [k for k in props if isinstance(k, str)]
    normed = {k: compact(k) for k in keys}
    out = [k for k in keys if normed[k] in _INTERNALS]
    files = [k for k in keys if normed[k] in _FILES]
    lines = [k for k in keys if normed[k] in _LINES]
    if files and lines:
        out += files + lines
    return out


def _referenced(
    doc: Document, node: SchemaNode, by_loc: dict[Location, SchemaNode]
) -> list[SchemaNode]:
    """Nodes that ``node`` reaches through a bare ``$ref`` (those are not child nodes)."""
    data = node.data
    slots: list[object] = [data]
    props = data.get("properties")
    if isinstance(props, dict):
        slots.extend(props.values())
    slots.extend(data.get(key) for key in _SUBSCHEMA_ONE)
    for key in _SUBSCHEMA_MANY:
        many = data.get(key)
        if isinstance(many, list):
            slots.extend(many)
    out = []
    for slot in slots:
        if isinstance(slot, dict) and isinstance(slot.get("$ref"), str):
            try:
                target = doc.ref_target(slot["$ref"], node.location)
            except RefError:
                target = None  # a malformed $ref is another rule's finding
            if target in by_loc:
                out.append(by_loc[target])
    return out
