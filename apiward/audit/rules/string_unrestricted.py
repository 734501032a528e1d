from __future__ import annotations

from collections.abc import Iterator

from apiward.audit.rule import Hit, rule
from apiward.audit.schema_groups import Labels, grouped, has_type, is_input, listing, plural
from apiward.core import Document, Owasp, Severity

_RESTRICTING = ("format", "pattern", "enum", "const")


@rule(
    severity=Severity.LOW,
    category=Owasp.API4,
    cwe=20,
    remediation="Say what a valid value looks like: a `format` (email, uri, uuid...), a "
    "`pattern`, an `enum` or a `const`, and validate input against it.",
    group="data",
)
def string_unrestricted(doc: Document) -> Iterator[Hit]:
    """String input accepts any characters.

    Checks every schema of type `string` that a client can send (reachable from
    a request, or not used by any operation; response-only and `readOnly`
    schemas are skipped) for a `format`, `pattern`, `enum` or `const`. Without
    one, any text is valid: control characters, markup, injection payloads all
    pass the contract, and the server's own code is the only line of defence.
    One finding per root schema names the strings concerned.

    Equivalent: Spectral owasp:api4:2023-string-restricted.
    """
    index = doc.schema_index
    names = Labels(doc)
    found = (
        (node, names(node))
        for node in index
        if has_type(node.data, "string")
        and not any(key in node.data for key in _RESTRICTING)
        and is_input(index, node)
    )
    yield from grouped(
        found,
        lambda names: (
            f"{plural(len(names), 'string')} without format, pattern or enum: {listing(names)}"
        ),
    )
