from __future__ import annotations

import re
from collections.abc import Iterator

from apiward.audit.rule import Hit, rule
from apiward.audit.schema_groups import Labels, grouped, has_type, is_input, listing, plural
from apiward.core import Document, Owasp, Severity

# formats whose valid values have a small fixed maximum length
_BOUNDED_FORMATS = frozenset({"date", "date-time", "time", "uuid", "ipv4", "ipv6"})
# an unescaped * or + or an open-ended {n,} repetition lets a pattern match any length
_UNBOUNDED_REPEAT = re.compile(r"(?<!\\)[*+]|(?<!\\)\{\d*,\}")


def bounded_pattern(pattern: object) -> bool:
    """Whether a ``pattern`` is anchored at both ends and repeats nothing without limit."""
    return (
        isinstance(pattern, str)
        and pattern.startswith("^")
        and pattern.endswith("$")
        and not pattern.endswith("\\$")
        and _UNBOUNDED_REPEAT.search(pattern) is None
    )


@rule(
    severity=Severity.MEDIUM,
    category=Owasp.API4,
    cwe=770,
    remediation="Give every string a client can send a `maxLength` (or an `enum`/`const`) "
    "that fits what the API really needs, and enforce it before processing.",
    group="data",
)
def string_without_max_length(doc: Document) -> Iterator[Hit]:
    """String input has no maximum length.

    Checks every schema of type `string` (3.0 `type`, 3.1 type arrays) that a
    client can send: reachable from a request (parameters, headers, bodies) or
    not used by any operation. Response-only schemas are left out on purpose:
    length limits protect the server from its input. A string is bounded by
    `maxLength`, `enum`, `const`, a fixed-size `format` (date, date-time, time,
    uuid, ipv4, ipv6) or a `pattern` anchored with `^...$` that repeats nothing
    without limit; `readOnly` strings are skipped. Unbounded strings let a
    client make the server allocate, parse, store and log as much as it likes.
    One finding per root schema names the strings concerned.

    Equivalent: Spectral owasp:api4:2023-string-limit.
    """
    index = doc.schema_index
    names = Labels(doc)
    found = (
        (node, names(node))
        for node in index
        if has_type(node.data, "string") and not _bounded(node.data) and is_input(index, node)
    )
    yield from grouped(
        found, lambda names: f"{plural(len(names), 'string')} without maxLength: {listing(names)}"
    )


def _bounded(schema: dict[str, object]) -> bool:
    return (
        "maxLength" in schema
        or "enum" in schema
        or "const" in schema
        or (isinstance(schema.get("format"), str) and schema["format"] in _BOUNDED_FORMATS)
        or bounded_pattern(schema.get("pattern"))
    )
