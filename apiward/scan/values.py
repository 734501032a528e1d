"""Valid values for an API's schemas, so that scan requests get past validation to the logic.

:func:`inline` turns a schema into one plain mapping (``$ref`` s replaced, ``allOf`` merged);
:class:`ValueGenerator` builds values that satisfy it, and invalid ones for negative tests;
:func:`body_schema` and :func:`response_schema` pick an operation's schemas.

Generation prefers what the document offers (``example``, ``examples``, ``default``, ``enum``,
``const``) when it fits the schema, then realistic values hinted by the property name, then
values built from the constraints. Every candidate is checked with a small validator
(:func:`apiward.scan.values_schema.fits`), so that a wrong ``example`` or a name hint that
breaks a ``pattern`` falls through to the next one. Everything is bounded: strings (10,000
characters), arrays (50 items), nesting, and the schemas visited per value.
"""

from __future__ import annotations

import copy
import functools
import math
import random
import re
import string
import uuid
from collections.abc import Callable, Iterator
from typing import Any

from apiward.core import Document, Operation
from apiward.scan.values_regex import MAX_STRING, pattern_string
from apiward.scan.values_schema import (
    MAX_DEPTH,
    MAX_ITEMS,
    as_dict,
    as_int,
    as_list,
    compiled,
    equal,
    fits,
    inline,
    is_num,
    json_safe,
    kinds,
    lower_bound,
    merge,
    number_fits,
    upper_bound,
)

__all__ = ["ValueGenerator", "body_schema", "inline", "response_schema"]

_OPTIONAL_DEPTH = 3  # optional objects/arrays deeper than this are left out
_NODE_BUDGET = 2_000  # schemas visited per value; past it, optional properties are left out
_MAX_OPTIONS = 8  # oneOf/anyOf alternatives tried
_MAX_MUTATIONS = 60
_URL = "http://127.0.0.1/apiward"

# -- name hints ----------------------------------------------------------------------------

_STRING_HINTS: tuple[tuple[str, str], ...] = (
    (r"e?mail(address)?$|email", "@email"),
    (r"(user(name)?|login|handle|nick(name)?|screenname)$", "@username"),
    (r"passw|passphrase|^pwd$|secret", "@password"),
    (r"uuid|guid", "@uuid"),
    (r"(phone|mobile|tel|telephone|msisdn|fax)(number)?$", "+15555550123"),
    (r"(url|uri|link|href|website|homepage|callback|webhook|redirect|endpoint)$", _URL),
    (r"(avatar|image|icon|logo|picture|photo)(url)?$", _URL),
    (r"^(host|hostname|server)$", "localhost"),
    (r"^domain(name)?$", "example.com"),
    (r"^ip(address|v4)?$", "127.0.0.1"),
    (r"(first|given)name$", "Ada"),
    (r"(last|family|sur)name$", "Lovelace"),
    (r"currency(code)?$", "EUR"),
    (r"^country(code)?$", "US"),
    (r"^(lang|language|locale)$", "en"),
    (r"^(timezone|tz)$", "UTC"),
    (r"iban$", "DE89370400440532013000"),
    (r"^(bic|swift)$", "DEUTDEFF"),
    (r"(zip|post|postal)code$|^zip$", "10115"),
    (r"city$", "Berlin"),
    (r"(street|address|line1)$", "1 Main Street"),
    (r"(birth|dob)", "1990-01-15"),
    (r"date$", "2024-01-15"),
    (r"_at$|time$|timestamp$", "2024-01-15T10:30:00Z"),
    (r"(amount|price|total|cost|fee|balance)$", "10.00"),
    (r"colou?r$", "#336699"),
    (r"slug$", "apiward-test"),
    (r"version$", "1.0.0"),
    (r"(content|mime)type$", "application/json"),
    (r"filename$", "apiward.txt"),
    (r"name$", "Apiward Test"),
    (r"(description|comment|memo|note|notes|message|text|bio|summary|title|reason)$", "apiward"),
)
_NUMBER_HINTS: tuple[tuple[str, float], ...] = (
    (r"(amount|price|total|cost|fee|sum|balance|value)$", 10),
    (r"^(offset|skip|start)$", 0),
    (r"^page$", 1),
    (r"year$", 2024),
    (r"^age$", 30),
    (r"^lat(itude)?$", 48.85),
    (r"^(lon|lng|longitude)$", 2.35),
    (r"port$", 8080),
    (r"(percent|percentage)$", 50),
    (r"_at$|time$|timestamp$|date$", 1_700_000_000),
)
_TRUE_HINTS = re.compile(r"accept|agree|consent|terms|enabled?$|active$")

_FORMATS = {
    "date": "2024-01-15", "date-time": "2024-01-15T10:30:00Z", "time": "10:30:00Z",
    "duration": "P1D", "uri": _URL, "url": _URL, "uri-reference": _URL, "iri": _URL,
    "iri-reference": _URL, "uri-template": _URL + "/{id}", "ipv4": "127.0.0.1", "ipv6": "::1",
    "hostname": "localhost", "idn-hostname": "localhost", "byte": "YXBpd2FyZA==",
    "base64": "YXBpd2FyZA==", "binary": "apiward", "regex": "^apiward$",
    "json-pointer": "/apiward", "relative-json-pointer": "0", "int32": "1", "int64": "1",
    "float": "1.5", "double": "1.5", "decimal": "1.5", "number": "1.5",
}  # fmt: skip


def _flat(name: str | None) -> str:
    """``createdAt``, ``Created-At`` -> ``created_at``."""
    snake = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", name or "").lower()
    return re.sub(r"[^a-z0-9]+", "_", snake).strip("_")


@functools.lru_cache(maxsize=4096)
def _hint_key(name: str | None) -> str | None:
    """The string hint for a property or parameter name (``@email``: a generated one)."""
    flat = _flat(name)
    if not flat:
        return None
    return next((v for p, v in _STRING_HINTS if _named(p, flat)), None)


def _named(pattern: str, flat: str) -> bool:
    # a pattern starting with "_" sees word boundaries (created_at), others just the letters
    return (
        re.search(pattern, flat if pattern.startswith("_") else flat.replace("_", "")) is not None
    )


# -- the generator -------------------------------------------------------------------------

_GIVEN = ("example", "x-example", "examples", "default")
_STRETCHY = frozenset({"apiward", "Apiward Test", "Ada", "Lovelace", "Berlin", "1 Main Street"})
# formats whose invalid values validators commonly reject (uri needs extra packages)
_CHECKED_FORMATS = ("email", "idn-email", "uuid", "date", "date-time", "ipv4", "ipv6")
_UNIQUE_NAMES = ("@email", "@username")


class ValueGenerator:
    """Builds values that satisfy inlined schemas (see :func:`inline`), and invalid ones.

    Deterministic for a ``seed``. Names such as usernames and emails carry a suffix unique
    to this generator and call, so that two sign-ups in one scan do not collide.
    """

    def __init__(self, doc: Document, *, seed: int = 0) -> None:
        self.doc = doc
        self._rng = random.Random(seed)
        tag = self._rng.choice(string.ascii_lowercase)
        self._tag = tag + "".join(self._rng.choices(string.ascii_lowercase + string.digits, k=5))
        self._serial = 0
        self._password = f"Apiward-Passw0rd-{self._tag}"
        self._budget = 0
        self._request = False

    def value(self, schema: dict[str, Any], name: str | None = None) -> Any:
        """A value valid for ``schema``; ``name`` (a property or parameter name) hints at it."""
        return self._top(schema, name, request=False)

    def request_value(self, schema: dict[str, Any], name: str | None = None) -> Any:
        """Like :meth:`value`, without ``readOnly`` properties: what a client sends."""
        return self._top(schema, name, request=True)

    def mutations(self, schema: dict[str, Any]) -> list[tuple[str, Any]]:
        """(description, value) pairs that ``schema`` rejects, for negative tests.

        The value itself with a wrong type, out of range, too long, not in the enum...; for an
        object, a valid one with one property missing, made invalid, or one too many.
        """
        out = _invalid(self._leaf_mutations(schema, None), schema)
        base = self.request_value(schema)
        if not isinstance(base, dict) or "object" not in kinds(schema):
            return out[:_MAX_MUTATIONS]
        for key in as_list(schema.get("required")):
            if key in base:
                rest = {k: v for k, v in base.items() if k != key}
                out.append((f"missing required property {key!r}", rest))
        for key, sub in list(as_dict(schema.get("properties")).items())[:_MAX_MUTATIONS]:
            if isinstance(sub, dict) and sub.get("readOnly") is not True:
                # a value its property schema rejects makes the whole object invalid
                for desc, bad in _invalid(self._leaf_mutations(sub, base.get(key)), sub):
                    out.append((f"{key}: {desc}", {**base, key: bad}))
        extra = schema.get("additionalProperties")
        if extra is False and "patternProperties" not in schema:
            out.append(("extra property 'apiward_unexpected'", {**base, "apiward_unexpected": 1}))
        return out[:_MAX_MUTATIONS]

    # -- valid values ----------------------------------------------------------------------

    def _top(self, schema: dict[str, Any], name: str | None, *, request: bool) -> Any:
        self._request = request
        self._budget = _NODE_BUDGET
        return self._gen(schema, name, 0)

    def _gen(self, schema: Any, name: str | None, depth: int) -> Any:
        if not isinstance(schema, dict):
            return None if schema is False else {}
        self._budget -= 1
        for candidate in self._given(schema, name):
            if json_safe(candidate) and fits(candidate, schema):
                return self._strip(copy.deepcopy(candidate), schema)
        # nothing fits: a const or enum is still the only thing a server may accept
        fixed = [schema["const"]] if "const" in schema else as_list(schema.get("enum"))
        fixed = [v for v in fixed if json_safe(v)]
        if fixed:
            return copy.deepcopy(next((v for v in fixed if v is not None), fixed[0]))
        for key in ("oneOf", "anyOf"):
            if isinstance(schema.get(key), list) and schema[key]:
                return self._choose(schema, key, name, depth)
        allowed = kinds(schema)
        kind = next((k for k in allowed if k != "null"), "null" if allowed else "")
        if depth > MAX_DEPTH and kind in ("object", "array"):
            return {} if kind == "object" else []  # written that deep: stop somewhere
        if kind == "object":
            return self._object(schema, depth)
        if kind == "array":
            return self._array(schema, name, depth)
        if kind == "string":
            return self._string(schema, name)
        if kind in ("integer", "number"):
            return self._number(schema, name, integer=kind == "integer")
        if kind == "boolean":
            return _TRUE_HINTS.search(_flat(name)) is not None
        if kind == "null":
            return None
        hint = self._hint(name)
        return hint if hint is not None else {}  # untyped: often a cut cycle, an object

    def _given(self, schema: dict[str, Any], name: str | None) -> Iterator[Any]:
        if _hint_key(name) in _UNIQUE_NAMES:
            yield self._hint(name)  # before examples: an example username would collide
        for key in _GIVEN:
            value = schema.get(key)
            if key == "examples":
                if isinstance(value, list) and value:
                    value = value[0]
                elif isinstance(value, dict) and value:
                    value = next(iter(value.values()))
                    value = value.get("value") if isinstance(value, dict) else value
                else:
                    continue
            if value is not None:
                yield value
        enum = schema.get("enum")
        if isinstance(enum, list):
            yield from (e for e in enum if e is not None)
        if "const" in schema:
            yield schema["const"]

    def _strip(self, value: Any, schema: dict[str, Any]) -> Any:
        """``value`` (a document's example) without its ``readOnly`` parts, for a request."""
        props = schema.get("properties")
        items = schema.get("items")
        if self._request and isinstance(value, list) and isinstance(items, dict):
            return [self._strip(v, items) for v in value]
        if self._request and isinstance(value, dict) and isinstance(props, dict):
            for key in list(value):
                sub = props.get(key)
                if isinstance(sub, dict):
                    if sub.get("readOnly") is True:
                        del value[key]
                    else:
                        value[key] = self._strip(value[key], sub)
        return value

    def _choose(self, schema: dict[str, Any], key: str, name: str | None, depth: int) -> Any:
        base = {k: v for k, v in schema.items() if k != key}
        options = [o for o in schema[key] if isinstance(o, dict)][:_MAX_OPTIONS]
        options.sort(key=lambda o: kinds(o) == ["null"])  # stable: a real value first
        first: list[Any] = []
        for option in options:
            value = self._gen(merge(base, option), name, depth + 1)
            if fits(value, schema):
                return value
            first = first or [value]
        return first[0] if first else None

    def _object(self, schema: dict[str, Any], depth: int) -> dict[str, Any]:
        props = as_dict(schema.get("properties"))
        required = [r for r in as_list(schema.get("required")) if isinstance(r, str)]
        out: dict[str, Any] = {}
        skipped: set[str] = set()
        for key, sub in props.items():
            if self._request and isinstance(sub, dict) and sub.get("readOnly") is True:
                skipped.add(key)
            elif key in required or self._easy(sub, depth):
                out[key] = self._gen(sub, key, depth + 1)
        extra = schema.get("additionalProperties")
        extra = extra if isinstance(extra, dict) else {}
        for key in required:
            if key not in out and key not in skipped:
                out[key] = self._gen(extra, key, depth + 1)
        if schema.get("additionalProperties") is not False:
            for i in range(len(out), min(as_int(schema.get("minProperties"), 0), MAX_ITEMS)):
                out[f"apiward_{i}"] = self._gen(extra, None, depth + 1)
        most = as_int(schema.get("maxProperties"), 2**62)
        for key in [k for k in reversed(out) if k not in required][: max(0, len(out) - most)]:
            del out[key]
        return out

    def _easy(self, schema: Any, depth: int) -> bool:
        """Whether to send an optional property: a plain one, while the budget lasts."""
        if not isinstance(schema, dict) or self._budget <= 0 or schema.get("deprecated") is True:
            return False
        allowed = kinds(schema)
        choice = "oneOf" in schema or "anyOf" in schema
        if not allowed and not choice and not schema.keys() & {*_GIVEN, "enum", "const"}:
            return False  # nothing known, often a cut cycle
        nested = choice or "object" in allowed or "array" in allowed
        return depth < _OPTIONAL_DEPTH or not nested

    def _array(self, schema: dict[str, Any], name: str | None, depth: int) -> list[Any]:
        prefix = as_list(schema.get("prefixItems"))
        items = schema.get("items")
        if isinstance(items, list):  # draft 4 tuple form
            prefix, items = items, schema.get("additionalItems")
        least = min(as_int(schema.get("minItems"), 0), MAX_ITEMS)
        count = max(least, 1, len(prefix))  # one item, or every positional one
        unknown = items is None or items is True or items == {}
        if least == 0 and not prefix and (unknown or depth >= MAX_DEPTH or self._budget <= 0):
            count = 0  # an unknown (cut) item type: send none rather than a guess
        if items is False:
            count = min(count, len(prefix))
        count = min(count, as_int(schema.get("maxItems"), MAX_ITEMS), MAX_ITEMS)
        out: list[Any] = []
        for i in range(count):
            sub = prefix[i] if i < len(prefix) else items if items is not None else {}
            value = self._gen(sub, name, depth + 1)
            if schema.get("uniqueItems") is True:
                value = self._distinct(sub, value, out, name, depth)
            out.append(value)
        return out

    def _distinct(self, sub: Any, value: Any, out: list[Any], name: str | None, depth: int) -> Any:
        enum = sub.get("enum") if isinstance(sub, dict) else None
        candidates: list[Any] = [value, *(enum if isinstance(enum, list) else [])]
        for i in range(1, 6):
            if isinstance(value, str):
                candidates.append(f"{value}{i}")
                candidates.append(value[:-1] + str(i))
            elif is_num(value):
                step = sub.get("multipleOf") if isinstance(sub, dict) else None
                candidates.append(value + i * (step if is_num(step) else 1))
                candidates.append(value - i * (step if is_num(step) else 1))
            else:
                candidates.append(self._gen(sub, name, depth + 1))
        for c in candidates:
            if fits(c, sub) and not any(equal(c, o) for o in out):
                return c
        return value

    def _unique(self) -> str:
        self._serial += 1
        return f"{self._tag}{self._serial}"

    def _hint(self, name: str | None) -> str | None:
        key = _hint_key(name)
        if key == "@email":
            return f"apiward.{self._unique()}@example.com"
        if key == "@username":
            return f"apiward_{self._unique()}"
        if key == "@password":
            return self._password
        if key == "@uuid":
            return str(uuid.UUID(int=self._rng.getrandbits(128), version=4))
        return key

    def _string(self, schema: dict[str, Any], name: str | None) -> str:
        least = min(as_int(schema.get("minLength"), 0), MAX_STRING)
        most = min(as_int(schema.get("maxLength"), MAX_STRING), MAX_STRING)
        fmt = str(schema.get("format") or "").lower()
        candidates: list[tuple[str, bool]] = []  # (value, may be padded or cut)
        hint = self._hint(name)
        if hint is not None:
            candidates.append((hint, hint == self._password or hint in _STRETCHY))
            if _hint_key(name) == "@username":
                candidates.append((hint.removeprefix("apiward_"), False))
        if fmt in ("email", "idn-email"):
            candidates.append((f"apiward.{self._unique()}@example.com", False))
        elif fmt in ("uuid", "guid"):
            candidates.append((str(uuid.UUID(int=self._rng.getrandbits(128), version=4)), False))
        elif fmt == "password":
            candidates.append((self._password, True))
        elif fmt in _FORMATS:
            candidates.append((_FORMATS[fmt], False))
        for value, stretchy in candidates:
            for v in (value, _fit_length(value, least, most)) if stretchy else (value,):
                if fits(v, schema):
                    return v
        for value in ("apiward", self._password):  # readable, when the pattern allows
            v = _fit_length(value, least, most)
            if fits(v, schema):
                return v
        pattern = schema.get("pattern")
        if isinstance(pattern, str):
            sample = pattern_string(pattern, least, most, self._rng)
            if sample is not None:
                return sample
        return _fit_length(candidates[0][0] if candidates else "apiward", least, most)

    def _number(self, schema: dict[str, Any], name: str | None, *, integer: bool) -> float:
        flat = _flat(name)
        hints = [v for p, v in _NUMBER_HINTS if flat and _named(p, flat)][:1]
        lo, hi = lower_bound(schema)[0], upper_bound(schema)[0]
        step = schema.get("multipleOf")
        step = step if is_num(step) and step > 0 else None
        # a hint outside the range moves to its edge: amount <= 5 gives 5, not 1
        hints = [
            min(max(h, lo if lo is not None else h), hi if hi is not None else h) for h in hints
        ]
        bases: list[float] = [*hints, 1, 0]
        if lo is not None:
            bases += [lo, lo + 1, lo + (step or 0.5)]
        if hi is not None:
            bases += [hi, hi - 1, hi - (step or 0.5)]
        if lo is not None and hi is not None:
            bases.append((lo + hi) / 2)
        for base in bases:
            for v in _snapped(base, step, integer=integer):
                if number_fits(v, schema) and (not integer or float(v).is_integer()):
                    return v
        return int(lo) if integer and lo is not None else lo if lo is not None else 1

    # -- invalid values --------------------------------------------------------------------

    def _leaf_mutations(self, schema: Any, current: Any) -> Iterator[tuple[str, Any]]:
        if not isinstance(schema, dict):
            return
        declared = kinds(schema, infer=False)
        if declared:
            wrong = 12345 if "string" in declared else "apiward"
            yield f"wrong type (expected {'/'.join(declared)})", wrong
            if "null" not in declared:
                yield "null", None
        allowed = kinds(schema)
        enum = schema.get("enum")
        if isinstance(enum, list) and enum:
            nums = [e for e in enum if is_num(e)]
            outside = max(nums) + 1 if nums and "string" not in allowed else "apiward-not-in-enum"
            yield "not in enum", outside
        if "string" in allowed or any(k in schema for k in ("maxLength", "minLength", "pattern")):
            yield from _string_mutations(schema)
        if {"integer", "number"} & set(allowed):
            yield from _number_mutations(schema, integer="integer" in allowed)
        if "array" in allowed:
            item = current[0] if isinstance(current, list) and current else None
            if item is None:
                item = self._gen(schema.get("items", {}), None, 1)
            most = as_int(schema.get("maxItems"), -1)
            if 0 <= most < MAX_ITEMS:
                yield f"more than maxItems {most}", [item] * (most + 1)
            least = as_int(schema.get("minItems"), 0)
            if least > 0:
                yield f"fewer than minItems {least}", [item] * (least - 1)


def _invalid(candidates: Iterator[tuple[str, Any]], schema: Any) -> list[tuple[str, Any]]:
    """The candidates ``schema`` rejects, each value once."""
    out: list[tuple[str, Any]] = []
    for desc, bad in candidates:
        if not fits(bad, schema) and not any(equal(bad, seen) for _, seen in out):
            out.append((desc, bad))
    return out


def _string_mutations(schema: dict[str, Any]) -> Iterator[tuple[str, Any]]:
    most = as_int(schema.get("maxLength"), -1)
    if 0 <= most < MAX_STRING:
        yield f"longer than maxLength {most}", "a" * (most + 1)
    least = as_int(schema.get("minLength"), 0)
    if least > 0:
        yield f"shorter than minLength {least}", "a" * (least - 1)
    pattern = schema.get("pattern")
    regex = compiled(pattern) if isinstance(pattern, str) else None
    if regex is not None:
        for bad in ("!<>'\" ", "", " ", "apiward apiward", "0", "\x00"):
            if regex.search(bad) is None:
                yield f"does not match pattern {pattern}", bad
                break
    fmt = schema.get("format")
    if isinstance(fmt, str) and fmt.lower() in _CHECKED_FORMATS:
        yield f"not a valid {fmt}", "not-a-valid-value"


def _number_mutations(schema: dict[str, Any], *, integer: bool) -> Iterator[tuple[str, Any]]:
    lo, lo_ex = lower_bound(schema)
    hi, hi_ex = upper_bound(schema)
    if lo is not None:
        yield f"below minimum {lo}", lo if lo_ex else lo - 1
    if hi is not None:
        yield f"above maximum {hi}", hi if hi_ex else hi + 1
    if integer:
        yield "not an integer", 1.5
    step = schema.get("multipleOf")
    if is_num(step) and step > 0:
        base = lo if lo is not None and not lo_ex else (hi if hi is not None else 0)
        yield f"not a multiple of {step}", base + step / 2


def _fit_length(value: str, least: int, most: int) -> str:
    if len(value) < least:
        value += "x" * (least - len(value))
    return value[:most]


def _snapped(base: float, step: float | None, *, integer: bool) -> list[float]:
    """Values at or next to ``base`` that are multiples of ``step`` (and integers if asked)."""
    if step is None:
        values: list[float] = [math.floor(base), math.ceil(base)] if integer else [base]
    else:
        digits = max(0, -math.floor(math.log10(step)) + 2) if step < 1 else 0
        try:
            values = [round(f(base / step) * step, digits) for f in (math.ceil, math.floor)]
        except (OverflowError, ValueError):
            return []
    out: list[float] = []
    for v in values:
        if isinstance(v, float) and v.is_integer() and abs(v) < 2**53:
            v = int(v)
        out.append(v)
    return out


# -- an operation's schemas ----------------------------------------------------------------


def _base(media: str) -> str:
    return media.split(";", 1)[0].strip().lower()


_BODY_PREFERENCE: tuple[Callable[[str], bool], ...] = (
    lambda m: m == "application/json",
    lambda m: m.endswith("+json"),
    lambda m: m == "application/x-www-form-urlencoded",
    lambda m: m == "multipart/form-data",
    lambda m: "json" in m,
)


def body_schema(doc: Document, op: Operation) -> tuple[str, dict[str, Any]] | None:
    """(media type, inlined schema) of ``op``'s request body; None when it has none.

    Prefers ``application/json``, then ``*/*+json``, form-urlencoded, multipart, anything
    JSON-like, and finally the first media type declared.
    """
    body = op.request_body
    if body is None or not body.content:
        return None
    declared = list(body.content)
    media = next((m for test in _BODY_PREFERENCE for m in declared if test(_base(m))), declared[0])
    return media, inline(doc, body.content[media].schema)


def response_schema(doc: Document, op: Operation, status: int) -> dict[str, Any] | None:
    """The inlined schema of ``op``'s JSON response for ``status``; None when none is declared.

    Looks up the exact code, then its range (``2XX``), then ``default``.
    """
    family = f"{status // 100}XX"
    response = op.responses.get(str(status)) or next(
        (r for code, r in op.responses.items() if code.upper() == family), None
    )
    response = response or op.responses.get("default")
    if response is None:
        return None
    declared = list(response.content)
    media = next((m for test in _BODY_PREFERENCE[:2] for m in declared if test(_base(m))), None)
    media = media or next((m for m in declared if "json" in _base(m)), None)
    if media is None:
        return None
    return inline(doc, response.content[media].schema)
