"""OpenAPI schemas as self-contained mappings: every ``$ref`` replaced, ``allOf`` merged.

What a validator or a value generator wants: one plain mapping per schema, no
references to follow. Cycles and very large expansions are cut (to ``{}``), broken
references too; the document is never changed.
"""

from __future__ import annotations

import copy
import math
from typing import Any, TypeGuard

from apiward.core import pointer as jp
from apiward.core.document import Document
from apiward.core.findings import Location
from apiward.core.model import Schema
from apiward.errors import ApiwardError

__all__ = ["equal", "inline", "is_num", "merge"]

_MAX_INLINE_NODES = 50_000  # schema nodes copied per inline(); past it, $refs become {}

# -- inlining ------------------------------------------------------------------------------

_MAP_KEYS = ("properties", "patternProperties", "dependentSchemas")
_ONE_KEYS = (
    "additionalProperties", "items", "not", "contains", "if", "then", "else", "propertyNames",
    "unevaluatedItems", "unevaluatedProperties", "additionalItems",
)  # fmt: skip
_LIST_KEYS = ("allOf", "anyOf", "oneOf", "prefixItems", "items")
# with every $ref inlined these only change how a validator would resolve references
_DROPPED = frozenset(
    {"$defs", "definitions", "$id", "$schema", "$anchor", "$dynamicAnchor", "$dynamicRef"}
)


def inline(doc: Document, schema: Schema | None, *, max_depth: int = 8) -> dict[str, Any]:
    """``schema`` with every ``$ref`` replaced by a copy of its target and ``allOf`` merged.

    A reference back to a schema being inlined (a cycle), more than ``max_depth`` references
    deep, or one that does not resolve becomes ``{}``. For a ``discriminator``, each ``oneOf``
    / ``anyOf`` member's discriminating property is narrowed to the member's name, which is
    what a server will check. The document is not changed.
    """
    if schema is None:
        return {}
    try:
        out = _Inliner(doc, max_depth).schema(schema.data, schema.location, (schema.location,), 0)
    except RecursionError:
        return {}  # a schema written thousands of levels deep: nothing sensible to send
    return out if isinstance(out, dict) else {}


class _Inliner:
    def __init__(self, doc: Document, max_depth: int) -> None:
        self.doc = doc
        self.max_depth = max_depth
        self.nodes = 0

    def schema(self, value: Any, loc: Location, stack: tuple[Location, ...], depth: int) -> Any:
        if not isinstance(value, dict):
            return value if isinstance(value, bool) else {}
        self.nodes += 1
        if isinstance(value.get("$ref"), str):
            return self._ref(value, loc, stack, depth)
        out: dict[str, Any] = {}
        for key, sub in value.items():
            if key in _DROPPED:
                continue
            at = Location(loc.file, jp.join(loc.pointer, key))
            if key in _MAP_KEYS and isinstance(sub, dict):
                out[key] = {
                    name: self.schema(s, Location(at.file, jp.join(at.pointer, name)), stack, depth)
                    for name, s in sub.items()
                }
            elif key in _ONE_KEYS and isinstance(sub, dict | bool):
                out[key] = self.schema(sub, at, stack, depth)
            elif key in _LIST_KEYS and isinstance(sub, list):
                out[key] = [
                    self.schema(s, Location(at.file, jp.join(at.pointer, i)), stack, depth)
                    for i, s in enumerate(sub)
                ]
            else:
                out[key] = copy.deepcopy(sub)
        _narrow_discriminated(out, value)
        return _merge_all_of(out)

    def _ref(self, value: Any, loc: Location, stack: tuple[Location, ...], depth: int) -> Any:
        try:
            target, target_loc = self.doc.resolve(value, loc)
        except (ApiwardError, ValueError, OSError):
            return {}  # broken: the audit reports it; a scan can still send something
        if target_loc in stack or depth >= self.max_depth or self.nodes > _MAX_INLINE_NODES:
            return {}
        out = self.schema(target, target_loc, (*stack, target_loc), depth + 1)
        siblings = {k: v for k, v in value.items() if k != "$ref"}
        if siblings and isinstance(out, dict):
            # 3.1 applies keywords beside $ref; 3.0 documents use them to mean the same.
            # Siblings first: their description, example or default is the specific one.
            extra = self.schema(siblings, loc, stack, depth)
            if isinstance(extra, dict):
                return merge(extra, out)
        return out


def _narrow_discriminated(out: dict[str, Any], raw: dict[str, Any]) -> None:
    disc = out.get("discriminator")
    if not isinstance(disc, dict) or not isinstance(disc.get("propertyName"), str):
        return
    prop = disc["propertyName"]
    mapping = disc.get("mapping")
    mapping = mapping if isinstance(mapping, dict) else {}
    for key in ("oneOf", "anyOf"):
        members, written = out.get(key), raw.get(key)
        if not isinstance(members, list) or not isinstance(written, list):
            continue
        for member, source in zip(members, written, strict=False):
            ref = source.get("$ref") if isinstance(source, dict) else None
            props = member.get("properties") if isinstance(member, dict) else None
            if not isinstance(ref, str) or not isinstance(props, dict):
                continue
            name = next(
                (k for k, v in mapping.items() if v == ref or ref.endswith(f"/{v}")),
                ref.rsplit("/", 1)[-1],
            )
            sub = props.get(prop)
            if not isinstance(sub, dict) or sub.keys() & {"enum", "const"}:
                continue
            if sub.get("type") in (None, "string", ["string"]):
                props[prop] = {**sub, "enum": [name]}


def _merge_all_of(schema: dict[str, Any]) -> dict[str, Any]:
    parts = schema.get("allOf")
    if not isinstance(parts, list):
        return schema
    out = {k: v for k, v in schema.items() if k != "allOf"}
    for part in parts:
        if isinstance(part, dict):
            out = merge(out, part)
        elif part is False:
            out["allOf"] = [False]  # unsatisfiable stays unsatisfiable
    return out


_LOWER_BOUNDS = frozenset({"minimum", "minLength", "minItems", "minProperties"})
_UPPER_BOUNDS = frozenset({"maximum", "maxLength", "maxItems", "maxProperties"})


def merge(a: dict[str, Any], b: dict[str, Any]) -> dict[str, Any]:
    """Both schemas' constraints in one mapping (``allOf`` of two, approximately)."""
    out = dict(a)
    for key, new in b.items():
        if key not in out:
            out[key] = new
            continue
        old = out[key]
        if key == "properties" and isinstance(old, dict) and isinstance(new, dict):
            props = dict(old)
            for name, sub in new.items():
                mine = props.get(name)
                if isinstance(mine, dict) and isinstance(sub, dict):
                    props[name] = merge(mine, sub)
                else:
                    props.setdefault(name, sub)
            out[key] = props
        elif key == "required" and isinstance(old, list) and isinstance(new, list):
            out[key] = list(dict.fromkeys([*old, *new]))
        elif key == "type":
            out[key] = _merge_types(old, new)
        elif is_num(old) and is_num(new) and key in _LOWER_BOUNDS | {"exclusiveMinimum"}:
            out[key] = max(old, new)
        elif is_num(old) and is_num(new) and key in _UPPER_BOUNDS | {"exclusiveMaximum"}:
            out[key] = min(old, new)
        elif key == "enum" and isinstance(old, list) and isinstance(new, list):
            out[key] = [v for v in old if any(equal(v, w) for w in new)] or old
        elif key in ("items", "additionalProperties") and (old is False or new is False):
            out[key] = False
        elif key in ("items", "additionalProperties") and isinstance(old, dict):
            out[key] = merge(old, new) if isinstance(new, dict) else old
        elif key in ("nullable", "x-nullable"):
            out[key] = old is True and new is True
        elif isinstance(old, bool) and isinstance(new, bool):
            out[key] = old or new  # readOnly, writeOnly, 3.0 exclusive bounds
    return out


def _merge_types(old: Any, new: Any) -> Any:
    a = [old] if isinstance(old, str) else old if isinstance(old, list) else []
    b = [new] if isinstance(new, str) else new if isinstance(new, list) else []
    if not a or not b:
        return old if a else new
    common = [t for t in a if t in b or (t == "integer" and "number" in b)]
    common += [t for t in b if t == "integer" and "number" in a and t not in common]
    if not common:
        return old
    return common[0] if len(common) == 1 else common


def is_num(v: Any) -> TypeGuard[int | float]:
    """A JSON number (booleans, NaN and the infinities YAML allows are not)."""
    if isinstance(v, float):
        return math.isfinite(v)
    return isinstance(v, int) and not isinstance(v, bool)


def equal(a: Any, b: Any) -> bool:
    """JSON equality: ``True`` is not ``1``, ``1`` is ``1.0``."""
    if isinstance(a, bool) or isinstance(b, bool):
        return type(a) is type(b) and a == b
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(equal(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(equal(a[k], b[k]) for k in a)
    return (type(a) is type(b) or (is_num(a) and is_num(b))) and bool(a == b)
