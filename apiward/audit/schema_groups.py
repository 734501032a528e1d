"""Report schema problems once per root schema, naming the properties concerned.

A large document has tens of thousands of schema nodes; one finding per node
is unreadable (Spectral prints 59,306 on GitHub's spec). Schema rules instead
yield ``(node, label)`` pairs and :func:`grouped` folds them into one :class:`Hit`
per *root* schema: a component (``/components/schemas/User``) or the top of an
inline schema (``.../requestBody/content/application~1json/schema``). The engine
then attaches every operation that uses that root, through ``$ref`` too.

Below the grouping are the few schema facts the rules share: whether a client
can send a schema (:func:`is_input`), its types and bounds, and name matching.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any

from apiward.audit.rule import Hit
from apiward.core import Document, Location, SchemaIndex, SchemaNode
from apiward.core import pointer as jp
from apiward.errors import ApiwardError

__all__ = [
    "Labels",
    "accepts_anything",
    "compact",
    "grouped",
    "has_maximum",
    "has_minimum",
    "has_type",
    "is_input",
    "listing",
    "plural",
    "read_only",
    "resolved",
    "root",
    "words",
    "write_only",
]

MAX_NAMES = 5
_NAMED_MAPS = frozenset({"$defs", "definitions", "patternProperties", "dependentSchemas"})


def root(node: SchemaNode) -> SchemaNode:
    """The outermost schema that contains ``node`` (``node`` itself if it has no parent)."""
    while node.parent is not None:
        node = node.parent
    return node


def grouped(
    found: Iterable[tuple[SchemaNode, str]],
    message: Callable[[list[str]], str],
) -> Iterator[Hit]:
    """One :class:`Hit` per root schema of the found nodes; ``message(labels)`` words it.

    Labels are de-duplicated and listed shallow first, then alphabetically, so the
    first few named are the ones most likely to matter.
    """
    groups: dict[Location, dict[str, None]] = {}
    for node, name in found:
        groups.setdefault(root(node).location, {})[name] = None
    for loc, names in groups.items():
        ordered = sorted(names, key=lambda n: (n.count("."), n))
        yield Hit(loc, message(ordered))


def listing(names: Sequence[str], limit: int = MAX_NAMES) -> str:
    """``a, b, c, d, e and 3 more``."""
    shown = ", ".join(names[:limit])
    rest = len(names) - limit
    return f"{shown} and {rest} more" if rest > 0 else shown


def plural(count: int, word: str, words: str | None = None) -> str:
    """``1 string`` / ``3 strings``."""
    return f"{count} {word if count == 1 else (words or word + 's')}"


class Labels:
    """Readable names for nodes: ``User.address.street``, ``User.tags[]``, ``User.meta.*``.

    Properties are joined with dots, array items add ``[]`` and map values ``*``;
    ``allOf``/``oneOf`` branches add nothing. The root is the component's name, or
    nothing for an inline schema (``(schema)`` if it is itself the node named).
    Names are memoized per node, so naming every node of a tree costs O(nodes).
    """

    def __init__(self, doc: Document | None = None) -> None:
        self._cache: dict[int, str] = {}
        self._doc = doc

    def __call__(self, node: SchemaNode) -> str:
        return self._path(node).lstrip(".") or "(schema)"

    def child(self, node: SchemaNode, key: str) -> str:
        """The name of property ``key`` of ``node`` (which may have no node: a bare ``$ref``)."""
        return (self._path(node) + "." + key).lstrip(".")

    def _path(self, node: SchemaNode) -> str:
        # iterative: a schema nested thousands deep must not hit the recursion limit
        chain: list[SchemaNode] = []
        cur: SchemaNode | None = node
        text = ""
        while cur is not None:
            cached = self._cache.get(id(cur))
            if cached is not None:
                text = cached
                break
            chain.append(cur)
            cur = cur.parent
        for item in reversed(chain):
            text = self._root_name(item) if item.parent is None else text + _step(item)
            self._cache[id(item)] = text
        return text

    def _root_name(self, node: SchemaNode) -> str:
        owner = node.owner.pointer
        if owner.startswith("/components/") or (owner and node.location == node.owner):
            return jp.split(owner)[-1]
        return _parameter_name(self._doc, node) if self._doc is not None else ""


def _step(node: SchemaNode) -> str:
    if node.property_name is not None:
        return "." + node.property_name
    head, _, last = node.location.pointer.rpartition("/")
    above = head.rpartition("/")[2]
    if above in _NAMED_MAPS:
        return ""  # a $defs/patternProperties entry: not a name a client uses
    if last in ("items", "additionalItems") or above in ("items", "prefixItems"):
        return "[]"
    if last in ("additionalProperties", "unevaluatedProperties"):
        return ".*"
    return ""


_PARAMETER_SCHEMA = re.compile(r"/parameters/\d+/schema$")


def _parameter_name(doc: Document, node: SchemaNode) -> str:
    """``query parameter pretty`` for the inline schema of a parameter, else ``""``."""
    ptr = node.location.pointer
    if not _PARAMETER_SCHEMA.search(ptr):
        return ""
    try:
        param = doc.node(Location(node.location.file, ptr[: -len("/schema")]))
    except ApiwardError:
        return ""
    if not isinstance(param, dict) or not isinstance(param.get("name"), str):
        return ""
    return f"{param.get('in', '')} parameter {param['name']}".strip()


def is_input(index: SchemaIndex, node: SchemaNode) -> bool:
    """Whether a client can send this schema: reachable from a request, or not used at all.

    Unused schemas count as input because nothing shows they are not (they may
    be used by tooling, webhooks or a later version); ``readOnly`` ones do not.
    """
    if index.used(node) and not index.in_request(node):
        return False
    return not read_only(node)


def read_only(node: SchemaNode) -> bool:
    """True if the node or a schema around it is ``readOnly`` (so clients never send it)."""
    return _marked(node, "readOnly")


def write_only(node: SchemaNode) -> bool:
    """True if the node or a schema around it is ``writeOnly`` (so responses never carry it)."""
    return _marked(node, "writeOnly")


def _marked(node: SchemaNode, keyword: str) -> bool:
    cur: SchemaNode | None = node
    while cur is not None:
        if cur.data.get(keyword) is True:
            return True
        cur = cur.parent
    return False


def has_type(schema: dict[str, Any], name: str) -> bool:
    """Whether ``type`` is ``name`` or (3.1) a list holding it; cheaper than a types set."""
    t = schema.get("type")
    return t == name or (isinstance(t, list) and name in t)


def _number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def has_minimum(schema: dict[str, object]) -> bool:
    """A lower bound: ``minimum``, or a numeric ``exclusiveMinimum`` (3.1).

    In 3.0 ``exclusiveMinimum`` is a boolean that only modifies ``minimum``, so
    on its own it bounds nothing; checking for a number handles both versions.
    """
    return _number(schema.get("minimum")) or _number(schema.get("exclusiveMinimum"))


def has_maximum(schema: dict[str, object]) -> bool:
    """An upper bound: ``maximum``, or a numeric ``exclusiveMaximum`` (3.1)."""
    return _number(schema.get("maximum")) or _number(schema.get("exclusiveMaximum"))


_ANNOTATIONS = frozenset(
    {"title", "description", "example", "examples", "default", "deprecated", "nullable"}
    | {"readOnly", "writeOnly", "externalDocs", "xml", "$comment", "$id", "$schema"}
)


def accepts_anything(schema: object) -> bool:
    """``true``, ``{}`` or a schema of annotations only: every JSON value is valid."""
    if schema is True:
        return True
    return isinstance(schema, dict) and all(
        key in _ANNOTATIONS or (isinstance(key, str) and key.startswith("x-")) for key in schema
    )


def resolved(doc: Document, value: Any, loc: Location) -> dict[str, Any]:
    """``value`` with ``$ref`` followed; ``{}`` if it is broken or not a mapping."""
    try:
        target, _ = doc.resolve(value, loc)
    except ApiwardError:  # a broken, looping or unreadable $ref: another rule's finding
        return {}
    return target if isinstance(target, dict) else {}


_WORD = re.compile(r"[A-Z]+(?=[A-Z][a-z])|[A-Z]?[a-z]+|[A-Z]+|\d+")


def words(name: str) -> tuple[str, ...]:
    """A property name as lower-case words: ``userAPIKey2`` -> ``('user', 'api', 'key', '2')``."""
    return tuple(w.lower() for w in _WORD.findall(name))


def compact(name: str) -> str:
    """A name in lower case, letters and digits only: ``stack_Trace`` -> ``stacktrace``."""
    return "".join(c for c in name.lower() if c.isalnum())
