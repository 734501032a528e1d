"""Schemas as plain mappings: inlining ``$ref`` s and ``allOf``, and a small validator.

:func:`inline` gives the value generator one self-contained mapping per schema;
:func:`fits` checks a candidate value against it with the keywords generation relies on
(the same arithmetic as the ``jsonschema`` library where they could disagree).
"""

from __future__ import annotations

import datetime
import functools
import ipaddress
import math
import re
from collections.abc import Callable
from typing import Any

from apiward.core.inline import equal, inline, is_num, merge

__all__ = [
    "as_dict", "as_int", "as_list", "compiled", "equal", "fits", "format_ok", "inline", "is_num",
    "json_safe", "kinds", "lower_bound", "merge", "number_fits", "upper_bound",
]  # fmt: skip

MAX_DEPTH = 12  # nesting checked (and generated) at most
MAX_ITEMS = 50  # array items checked (and generated) at most
# -- inlining: apiward.core.inline -------------------------------------------------------

# -- a small validator, to check candidates ------------------------------------------------


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
