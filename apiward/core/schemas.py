"""Every schema in a document once, and which operations use it.

Rules look at each schema node once, at the place it is written: a ``$ref`` d
schema shared by 300 operations is one node whose :meth:`SchemaIndex.usages`
are those 300 operations. References are edges between *owners* (a component,
an operation, a path item, or the target of a reference into another file);
usages and request/response direction are reachability over those edges.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from apiward.core import pointer as jp
from apiward.core.findings import Location, OperationRef
from apiward.core.model import Raw
from apiward.errors import RefError, SpecError

if TYPE_CHECKING:
    from apiward.core.document import Document

_SUBSCHEMA_MAPS = ("properties", "patternProperties", "$defs", "definitions", "dependentSchemas")
_SUBSCHEMA_ONE = (
    "additionalProperties",
    "items",
    "not",
    "contains",
    "if",
    "then",
    "else",
    "propertyNames",
    "unevaluatedItems",
    "unevaluatedProperties",
    "additionalItems",
)
_SUBSCHEMA_LISTS = ("allOf", "anyOf", "oneOf", "prefixItems", "items")
_DATA_KEYS = frozenset({"example", "examples", "default", "enum", "const"})
_MAX_STEPS = 20_000_000  # guards against YAML alias DAGs that expand exponentially

_REQ, _RESP = 1, 2


@dataclass(slots=True)
class SchemaNode:
    """One schema as written: its mapping, location, owner and (if a property) its name."""

    location: Location
    data: Raw
    owner: Location
    property_name: str | None
    parent: SchemaNode | None

    @property
    def types(self) -> set[str]:
        """The JSON types this schema allows (3.0 ``type`` + ``nullable`` or 3.1 arrays)."""
        return schema_types(self.data)

    @property
    def name(self) -> str:
        """A readable dotted path: ``User.address.street``."""
        parts = []
        node: SchemaNode | None = self
        while node is not None:
            if node.property_name is not None:
                parts.append(node.property_name)
            elif node.parent is None:
                parts.append(jp.split(node.owner.pointer)[-1] if node.owner.pointer else "")
            node = node.parent
        return ".".join(reversed([p for p in parts if p]))


def schema_types(schema: Raw) -> set[str]:
    t = schema.get("type")
    if isinstance(t, str):
        types = {t}
    elif isinstance(t, list):
        types = {x for x in t if isinstance(x, str)}
    else:
        types = set()
    if schema.get("nullable") is True:
        types.add("null")
    return types


class SchemaIndex:
    """All schema nodes of a document and the reference graph between owners."""

    def __init__(self, doc: Document) -> None:
        self._doc = doc
        self.nodes: list[SchemaNode] = []
        self.broken_refs: list[tuple[Location, str]] = []
        self._owners: dict[Location, str] = {}  # owner -> kind ("schema" or "other")
        self._edges: dict[Location, set[tuple[Location, int]]] = {}
        self._ops: dict[Location, OperationRef] = {}
        self._op_of_item: dict[Location, list[Location]] = {}
        self._usages: dict[Location, list[OperationRef]] = {}
        self._steps = 0
        self._build()

    def __iter__(self) -> Iterator[SchemaNode]:
        return iter(self.nodes)

    def __len__(self) -> int:
        return len(self.nodes)

    # -- queries ----------------------------------------------------------

    def in_request(self, node: SchemaNode) -> bool:
        return bool(self._direction(node) & _REQ)

    def in_response(self, node: SchemaNode) -> bool:
        return bool(self._direction(node) & _RESP)

    def used(self, node: SchemaNode) -> bool:
        return self._direction(node) != 0

    def usages(self, loc: Location) -> list[OperationRef]:
        owner = self.owner_of(loc)
        cached = self._usages.get(owner)
        if cached is not None:
            return cached
        start = self._ids.get(owner)
        found: dict[str, OperationRef] = {}
        if start is not None:
            # integer ids: this walk runs once per distinct owner with findings,
            # tens of thousands of times on the largest specs
            seen = {start}
            queue = deque([start])
            rev, ops_at = self._rev_ids, self._ops_at
            while queue:
                cur = queue.popleft()
                for ref in ops_at[cur]:
                    found.setdefault(ref.key, ref)
                for src in rev[cur]:
                    if src not in seen:
                        seen.add(src)
                        queue.append(src)
        result = sorted(found.values(), key=lambda r: (r.key.split(" ", 1)[1], r.key))
        self._usages[owner] = result
        return result

    def owner_of(self, loc: Location) -> Location:
        """The component, operation or path item whose subtree holds ``loc``."""
        # Strip one escaped token at a time: a pointer's prefixes are pointers too.
        ptr = loc.pointer
        while True:
            cand = Location(loc.file, ptr)
            if cand in self._owners or not ptr:
                return cand
            ptr = ptr[: ptr.rfind("/")]

    # -- building ---------------------------------------------------------

    def _build(self) -> None:
        doc = self._doc
        components = doc.raw.get("components")
        work: list[tuple[Location, Any, str]] = []
        if isinstance(components, dict):
            for kind, entries in components.items():
                if not isinstance(entries, dict) or kind.startswith("x-"):
                    continue
                for name, value in entries.items():
                    loc = Location(doc.uri, jp.join("/components", kind, name))
                    work.append((loc, value, "schema" if kind == "schemas" else "other"))
        for op in doc.operations:
            self._ops[op.location] = op.ref
            work.append((op.location, op.raw, "other"))
            item = Location(op.location.file, op.location.pointer.rsplit("/", 1)[0])
            self._op_of_item.setdefault(item, []).append(op.location)
        for item in self._op_of_item:
            raw = doc.node(item)
            params = raw.get("parameters") if isinstance(raw, dict) else None
            work.append((item, {"parameters": params} if params is not None else {}, "other"))
        for loc, _, kind in work:
            self._owners[loc] = kind
        for loc, value, kind in work:
            self._walk(loc, value, kind)
        self._index_reverse_graph()
        self._dir = self._reach()

    def _index_reverse_graph(self) -> None:
        """Reverse edges and the operations each owner stands for, by integer id."""
        self._ids: dict[Location, int] = {}
        for loc in (*self._owners, *self._edges):
            self._ids.setdefault(loc, len(self._ids))
        for targets in self._edges.values():
            for dst, _ in targets:
                self._ids.setdefault(dst, len(self._ids))
        self._rev_ids: list[list[int]] = [[] for _ in self._ids]
        for src, targets in self._edges.items():
            src_id = self._ids[src]
            for dst_id in {self._ids[dst] for dst, _ in targets}:
                self._rev_ids[dst_id].append(src_id)
        self._ops_at: list[list[OperationRef]] = [[] for _ in self._ids]
        for loc, ref in self._ops.items():
            self._ops_at[self._ids[loc]].append(ref)
        for item, op_locs in self._op_of_item.items():
            self._ops_at[self._ids[item]].extend(self._ops[o] for o in op_locs)

    def _walk(self, owner: Location, value: Any, kind: str) -> None:
        doc = self._doc
        edges = self._edges.setdefault(owner, set())
        op_responses = jp.join(owner.pointer, "responses") if owner in self._ops else None
        stack: list[tuple[Any, Location, str, SchemaNode | None, str | None]] = [
            (value, owner, kind, None, None)
        ]
        while stack:
            self._steps += 1
            if self._steps > _MAX_STEPS:
                raise SpecError(
                    "the document expands beyond 20 million nodes "
                    "(YAML aliases?); refusing to walk it",
                    file=doc.uri,
                )
            v, loc, k, parent, prop = stack.pop()
            if isinstance(v, list):
                if k != "schema":
                    stack.extend(
                        (c, Location(loc.file, jp.join(loc.pointer, i)), k, parent, None)
                        for i, c in enumerate(v)
                    )
                continue
            if not isinstance(v, dict):
                continue
            ref = v.get("$ref")
            if isinstance(ref, str):
                self._add_edge(owner, loc, ref, k, edges, op_responses)
                if k != "schema" or len(v) == 1:
                    continue
            if k == "schema":
                node = SchemaNode(loc, v, owner, prop, parent)
                self.nodes.append(node)
                self._push_subschemas(stack, v, loc, node)
                continue
            for raw_key, child in v.items():
                key = str(raw_key)  # YAML reads `200:` as an int
                if key.startswith("x-") or not isinstance(child, dict | list):
                    continue
                if key in _DATA_KEYS and not loc.pointer.endswith("/responses"):
                    continue  # a `default` response is not a default value
                if owner in self._ops and loc == owner and key == "callbacks":
                    continue
                child_loc = Location(loc.file, jp.join(loc.pointer, key))
                stack.append(
                    (child, child_loc, "schema" if key == "schema" else "other", None, None)
                )

    def _push_subschemas(self, stack: list[Any], v: Raw, loc: Location, node: SchemaNode) -> None:
        for key in _SUBSCHEMA_MAPS:
            sub = v.get(key)
            if isinstance(sub, dict):
                base = jp.join(loc.pointer, key)
                for name, child in sub.items():
                    stack.append(
                        (
                            child,
                            Location(loc.file, jp.join(base, name)),
                            "schema",
                            node,
                            str(name) if key == "properties" else None,
                        )
                    )
        for key in _SUBSCHEMA_ONE:
            sub = v.get(key)
            if isinstance(sub, dict):
                stack.append(
                    (sub, Location(loc.file, jp.join(loc.pointer, key)), "schema", node, None)
                )
        for key in _SUBSCHEMA_LISTS:
            sub = v.get(key)
            if isinstance(sub, list):
                base = jp.join(loc.pointer, key)
                stack.extend(
                    (c, Location(loc.file, jp.join(base, i)), "schema", node, None)
                    for i, c in enumerate(sub)
                )

    def _add_edge(
        self,
        owner: Location,
        loc: Location,
        ref: str,
        kind: str,
        edges: set[tuple[Location, int]],
        op_responses: str | None,
    ) -> None:
        try:
            target = self._doc.ref_target(ref, loc)
            self._doc.node(target)
        except RefError:
            self.broken_refs.append((loc, ref))
            return
        dst = self.owner_of(target)
        if dst not in self._owners or dst.pointer == "":
            # a reference into another file, or to an odd place: that target owns its subtree
            dst = target
            if dst not in self._owners:
                self._owners[dst] = kind
                self._walk(dst, self._doc.node(dst), kind)
        hint = 0
        if op_responses is not None:
            hint = _RESP if loc.pointer.startswith(op_responses) else _REQ
        edges.add((dst, hint))

    def _reach(self) -> dict[Location, int]:
        direction: dict[Location, int] = {}
        for flag in (_REQ, _RESP):
            queue: deque[Location] = deque()
            for op in self._ops:
                for dst, hint in self._edges.get(op, ()):
                    if hint == flag:
                        queue.append(dst)
            if flag == _REQ:
                queue.extend(self._op_of_item)
            seen: set[Location] = set()
            while queue:
                cur = queue.popleft()
                if cur in seen:
                    continue
                seen.add(cur)
                direction[cur] = direction.get(cur, 0) | flag
                queue.extend(dst for dst, _ in self._edges.get(cur, ()) if dst not in seen)
        return direction

    def _direction(self, node: SchemaNode) -> int:
        if node.owner in self._ops:
            responses = jp.join(node.owner.pointer, "responses")
            return _RESP if node.location.pointer.startswith(responses) else _REQ
        return self._dir.get(node.owner, 0)
