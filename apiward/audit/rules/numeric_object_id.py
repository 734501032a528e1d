from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from apiward.audit.rule import Hit, rule
from apiward.audit.rules._auth import words
from apiward.core import Document, Location, Owasp, Parameter, Schema, Severity, schema_types
from apiward.core import pointer as jp
from apiward.errors import RefError

_DIGITS_ONLY = re.compile(r"^\^?(\\d|\[0-9\])(\+|\*|\{\d*,?\d*\})?\$?$")


@rule(
    severity=Severity.LOW,
    category=Owasp.API1,
    cwe=639,
    remediation="Identify objects with random, unguessable IDs (UUIDs or similar strings) "
    "and check on every request that the caller may access the object it names.",
)
def numeric_object_id(doc: Document) -> Iterator[Hit]:
    """Object ID parameter is a guessable number.

    Checks path and query parameters named `id` or ending in `Id`/`_id`/`-id`
    (and `ids` lists) whose schema is an integer, an int32/int64 string or a
    digits-only pattern. Sequential numbers let an attacker walk through other
    users' objects by counting, which turns any missing object-level
    authorization check into a mass data leak. Header and cookie parameters
    (request and correlation IDs) are not object references and are skipped.
    Reported at the parameter's schema: a shared ID schema used by several
    parameters is one finding.

    Equivalent: Spectral owasp:api1:2023-no-numeric-ids.
    """
    shared: dict[Location, list[str]] = {}
    seen: set[Location] = set()
    for op in doc.operations:
        for param in op.parameters:
            if param.location in seen or param.param_in not in ("path", "query"):
                continue
            seen.add(param.location)
            name_words = words(param.name)
            if not name_words or name_words[-1] not in ("id", "ids") or param.schema is None:
                continue
            schema_loc = param.schema.location
            if not _numeric(doc, param.schema, plural=name_words[-1] == "ids"):
                continue
            if _inline(param, schema_loc):
                yield Hit(
                    schema_loc,
                    f"{param.param_in} parameter {param.name} is a numeric ID, easy to guess",
                )
            else:
                shared.setdefault(schema_loc, []).append(param.name)
    for loc, names in shared.items():
        listed = ", ".join(sorted(set(names)))
        yield Hit(loc, f"numeric ID schema used by parameter(s) {listed} is easy to guess")


def _inline(param: Parameter, loc: Location) -> bool:
    return loc.file == param.location.file and loc.pointer.startswith(param.location.pointer + "/")


def _numeric(doc: Document, schema: Schema, *, plural: bool) -> bool:
    data: Any = schema.data
    if plural:
        if "array" not in schema_types(data):
            return False
        items_loc = Location(schema.location.file, jp.join(schema.location.pointer, "items"))
        try:
            data, _ = doc.resolve(data.get("items"), items_loc)
        except RefError:
            return False
        if not isinstance(data, dict):
            return False
    types = schema_types(data)
    if "integer" in types:
        return True
    pattern = data.get("pattern")
    return "string" in types and (
        data.get("format") in ("int32", "int64")
        or (isinstance(pattern, str) and bool(_DIGITS_ONLY.match(pattern)))
    )
