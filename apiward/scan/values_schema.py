"""Schemas as plain mappings: inlining ``$ref`` s and ``allOf``, and a small validator.

:func:`inline` gives the value generator one self-contained mapping per schema;
:func:`fits` checks a candidate value against it with the keywords generation relies on
(the same arithmetic as the ``jsonschema`` library where they could disagree).
"""

from __future__ import annotations

import copy
import datetime
import functools
import ipaddress
import math
import re
from collections.abc import Callable
from typing import Any, TypeGuard

from apiward.core import Document, Location, Schema
from apiward.core import pointer as jp
from apiward.errors import ApiwardError

__all__ = [
    "as_dict", "as_int", "as_list", "compiled", "equal", "fits", "format_ok", "inline", "is_num",
    "json_safe", "kinds", "lower_bound", "merge", "number_fits", "upper_bound",
]  # fmt: skip

MAX_DEPTH = 12  # nesting checked (and generated) at most
MAX_ITEMS = 50  # array items checked (and generated) at most
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
            if kinds(sub) in ([], ["string"]):
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


# -- a small validator, to check candidates ------------------------------------------------


def is_num(v: Any) -> TypeGuard[int | float]:
    """A JSON number (booleans, NaN and the infinities YAML allows are not)."""
    if isinstance(v, float):
        return math.isfinite(v)
    return isinstance(v, int) and not isinstance(v, bool)


def json_safe(v: Any, depth: int = 0) -> bool:
    """Whether ``v`` (a document's example, enum or const) can be sent as JSON."""
    if isinstance(v, float):
        return math.isfinite(v)
    if depth > MAX_DEPTH:
        return False
    if isinstance(v, list):
        return all(json_safe(x, depth + 1) for x in v)
    if isinstance(v, dict):
        return all(isinstance(k, str) and json_safe(x, depth + 1) for k, x in v.items())
    return v is None or isinstance(v, str | int)


def equal(a: Any, b: Any) -> bool:
    """JSON equality: ``True`` is not ``1``, ``1`` is ``1.0``."""
    if isinstance(a, bool) or isinstance(b, bool):
        return type(a) is type(b) and a == b
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(equal(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(equal(a[k], b[k]) for k in a)
    return (type(a) is type(b) or (is_num(a) and is_num(b))) and bool(a == b)


def kinds(schema: dict[str, Any], *, infer: bool = True) -> list[str]:
    """The JSON types a schema allows, in the order written.

    With ``infer``, a schema without ``type`` gets the one its keywords suggest (``properties``:
    object...): what to generate. Without, only declared types count: what a validator checks.
    """
    t = schema.get("type")
    if isinstance(t, list):
        kinds = [x for x in t if isinstance(x, str)]
    else:
        kinds = [t] if isinstance(t, str) else []
    if not kinds and infer:
        keys = schema.keys()
        fmt = schema.get("format")
        if keys & {"properties", "required", "additionalProperties", "minProperties"}:
            kinds = ["object"]
        elif keys & {"items", "prefixItems", "minItems", "maxItems", "uniqueItems"}:
            kinds = ["array"]
        elif keys & {"pattern", "minLength", "maxLength"}:
            kinds = ["string"]
        elif fmt in ("int32", "int64"):
            kinds = ["integer"]
        elif keys & {"minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "multipleOf"}:
            kinds = ["number"]
        elif isinstance(fmt, str):
            kinds = ["string"]
    if kinds and "null" not in kinds and (schema.get("nullable") or schema.get("x-nullable")):
        kinds.append("null")
    return kinds


_KIND_CHECKS: dict[str, Callable[[Any], bool]] = {
    "string": lambda v: isinstance(v, str),
    "number": is_num,
    "integer": lambda v: is_num(v) and float(v).is_integer(),
    "boolean": lambda v: isinstance(v, bool),
    "null": lambda v: v is None,
    "object": lambda v: isinstance(v, dict),
    "array": lambda v: isinstance(v, list),
}


def _has_kind(value: Any, kind: str) -> bool:
    check = _KIND_CHECKS.get(kind)
    return check(value) if check else True  # an unknown type name: not ours to judge


@functools.lru_cache(maxsize=2048)
def compiled(pattern: str) -> re.Pattern[str] | None:
    """``pattern`` compiled by Python's re, or None when it cannot be."""
    try:
        return re.compile(pattern)
    except (re.error, RecursionError, OverflowError):
        return None  # ECMA-only syntax (\p{L}...): cannot be checked here


_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_DATE_TIME = re.compile(r"\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})")
_UUID = re.compile(r"[0-9a-fA-F]{8}-?([0-9a-fA-F]{4}-?){3}[0-9a-fA-F]{12}")


def format_ok(value: str, fmt: str) -> bool:
    """Whether ``value`` looks like ``fmt`` (formats validators check; others always pass)."""
    if fmt in ("email", "idn-email"):
        return "@" in value
    if fmt == "uuid":
        return _UUID.fullmatch(value) is not None
    if fmt == "date":
        try:
            return _DATE.fullmatch(value) is not None and bool(datetime.date.fromisoformat(value))
        except ValueError:
            return False
    if fmt == "date-time":
        return _DATE_TIME.fullmatch(value) is not None
    if fmt in ("ipv4", "ipv6"):
        try:
            ip = ipaddress.ip_address(value)
        except ValueError:
            return False
        return ip.version == int(fmt[-1])
    if fmt in ("uri", "url"):
        return re.match(r"[A-Za-z][A-Za-z0-9+.-]*:", value) is not None
    return True


def fits(value: Any, schema: Any, depth: int = 0) -> bool:
    """Whether ``value`` satisfies ``schema`` (the keywords generation relies on)."""
    if not isinstance(schema, dict):
        return schema is not False
    if depth > MAX_DEPTH:
        return True
    if "const" in schema and not equal(value, schema["const"]):
        return False
    enum = schema.get("enum")
    if isinstance(enum, list) and not any(equal(value, e) for e in enum):
        return False
    allowed = kinds(schema, infer=False)
    if allowed and not any(_has_kind(value, k) for k in allowed):
        return False
    if isinstance(value, str):
        ok = _string_fits(value, schema)
    elif is_num(value):
        ok = number_fits(value, schema)
    elif isinstance(value, list):
        ok = _array_fits(value, schema, depth)
    elif isinstance(value, dict):
        ok = _object_fits(value, schema, depth)
    else:
        ok = True
    if not ok:
        return False
    if any(not fits(value, s, depth + 1) for s in as_list(schema.get("allOf"))):
        return False
    any_of = as_list(schema.get("anyOf"))
    if any_of and not any(fits(value, s, depth + 1) for s in any_of):
        return False
    one_of = as_list(schema.get("oneOf"))
    if one_of and sum(fits(value, s, depth + 1) for s in one_of) != 1:
        return False
    negated = schema.get("not")
    return not (isinstance(negated, dict) and negated and fits(value, negated, depth + 1))


def as_list(v: Any) -> list[Any]:
    """``v`` if it is a list, else an empty one (documents hold anything anywhere)."""
    return v if isinstance(v, list) else []


def as_dict(v: Any) -> dict[str, Any]:
    """``v`` if it is a mapping, else an empty one."""
    return v if isinstance(v, dict) else {}


def as_int(v: Any, default: int) -> int:
    """``v`` as an int if it is a usable number, else ``default``."""
    return int(v) if is_num(v) and v == v and abs(v) < 2**62 else default


def _string_fits(value: str, schema: dict[str, Any]) -> bool:
    if len(value) < as_int(schema.get("minLength"), 0):
        return False
    if len(value) > as_int(schema.get("maxLength"), 2**62):
        return False
    pattern = schema.get("pattern")
    regex = compiled(pattern) if isinstance(pattern, str) else None
    if regex is not None and regex.search(value) is None:
        return False
    fmt = schema.get("format")
    return format_ok(value, fmt.lower()) if isinstance(fmt, str) else True


def _multiple(value: float, step: int | float) -> bool:
    # the same arithmetic as the jsonschema library, so that both agree on 0.1-like steps
    if isinstance(step, float):
        try:
            quotient = value / step
            return int(quotient) == quotient
        except (OverflowError, ValueError):
            return False
    return not value % step


def number_fits(value: float, schema: dict[str, Any]) -> bool:
    """Whether ``value`` is within the bounds and a multiple of ``multipleOf``."""
    lo, lo_ex = lower_bound(schema)
    hi, hi_ex = upper_bound(schema)
    if lo is not None and (value < lo or (lo_ex and value == lo)):
        return False
    if hi is not None and (value > hi or (hi_ex and value == hi)):
        return False
    step = schema.get("multipleOf")
    return not is_num(step) or step <= 0 or _multiple(value, step)


def _array_fits(value: list[Any], schema: dict[str, Any], depth: int) -> bool:
    if not as_int(schema.get("minItems"), 0) <= len(value) <= as_int(schema.get("maxItems"), 2**62):
        return False
    if schema.get("uniqueItems") is True:
        for i, item in enumerate(value):
            if any(equal(item, other) for other in value[:i]):
                return False
    prefix = as_list(schema.get("prefixItems"))
    items = schema.get("items")
    for i, item in enumerate(value[:MAX_ITEMS]):
        sub = prefix[i] if i < len(prefix) else items
        if sub is not None and not fits(item, sub, depth + 1):
            return False
    return True


def _object_fits(value: dict[str, Any], schema: dict[str, Any], depth: int) -> bool:
    if any(r not in value for r in as_list(schema.get("required")) if isinstance(r, str)):
        return False
    if (
        not as_int(schema.get("minProperties"), 0)
        <= len(value)
        <= as_int(schema.get("maxProperties"), 2**62)
    ):
        return False
    props = schema.get("properties")
    props = props if isinstance(props, dict) else {}
    extra = schema.get("additionalProperties")
    if isinstance(schema.get("patternProperties"), dict):
        extra = None  # which keys patterns cover is not worked out here
    for key, item in value.items():
        sub = props.get(key, extra)
        if sub is not None and not fits(item, sub, depth + 1):
            return False
    return True


def lower_bound(schema: dict[str, Any]) -> tuple[float | None, bool]:
    """The lower bound and whether it is exclusive (3.0 boolean or 3.1 number style)."""
    lo = schema.get("minimum") if is_num(schema.get("minimum")) else None
    ex = schema.get("exclusiveMinimum")
    if ex is True:
        return lo, lo is not None
    if is_num(ex) and (lo is None or ex >= lo):
        return ex, True
    return lo, False


def upper_bound(schema: dict[str, Any]) -> tuple[float | None, bool]:
    """The upper bound and whether it is exclusive."""
    hi = schema.get("maximum") if is_num(schema.get("maximum")) else None
    ex = schema.get("exclusiveMaximum")
    if ex is True:
        return hi, hi is not None
    if is_num(ex) and (hi is None or ex <= hi):
        return ex, True
    return hi, False
