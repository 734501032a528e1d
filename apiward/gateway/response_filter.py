"""Least data out: strip response fields the schema does not declare, mask sensitive values.

A pure function of (status, parsed JSON body), compiled once per operation. How the
gateway calls it, after the upstream answered with a JSON body::

    filters = {op: ResponseFilter.compile(doc, op) for op in doc.operations}
    ...
    try:
        body = filters[op].filter(status, json.loads(upstream_body))
    except ResponseBlocked as exc:
        return deny(exc.status, exc.code, exc.reason)    # 502: never pass it on unchecked
    send(json.dumps(body))                               # and fix Content-Length

Rules, with the positive security model in mind:

* An object keeps only the properties its schema declares (``properties`` and
  ``patternProperties``); others go unless ``additionalProperties`` is ``true`` or a
  schema (then those are kept and filtered by it). An absent ``additionalProperties``
  counts as ``false`` here: a response schema is the contract of what may leave.
* ``anyOf``/``oneOf`` alternatives are merged: a property any alternative declares stays.
* A schema that says nothing (``{}``, or a reference cycle the inliner cut) keeps the
  value, but masking still applies inside it.
* Masking: values of fields whose name holds a sensitive word (``password``, ``ssn``,
  ``secret``, ``token``, ``cvv`` ...) become ``"****"`` (``None`` for non-strings), unless
  the name is in ``keep`` (by default the OAuth token response fields, which a login
  operation returns by design); card numbers (Luhn-valid) inside any string are masked
  to their last four digits.
* A status the operation does not declare, or a JSON body where it declares none, is
  refused (:class:`ResponseBlocked`, 502): the gateway cannot tell what is safe to send.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from itertools import pairwise
from typing import Any

from apiward.core import Document, Operation, inline
from apiward.errors import ApiwardError
from apiward.gateway.validate import is_json_media

__all__ = ["DEFAULT_KEEP", "SENSITIVE_WORDS", "MaskPolicy", "ResponseBlocked", "ResponseFilter"]

SENSITIVE_WORDS = frozenset(
    {
        "password", "passwd", "pwd", "passphrase", "secret", "ssn", "token", "cvv", "cvc",
        "pin", "apikey", "privatekey", "cardnumber", "pan", "otp", "salt", "hash",
    }
)  # fmt: skip
DEFAULT_KEEP = frozenset({"access_token", "refresh_token", "id_token", "token_type"})
MASK = "****"
_MAX_DEPTH = 64  # nesting walked in an upstream body; deeper is refused, not trusted

_WORDS = re.compile(r"[A-Z]?[a-z0-9]+|[A-Z]+(?![a-z])")
_CARD = re.compile(r"(?<![0-9])[0-9](?:[ -]?[0-9]){12,18}(?![0-9])")


class ResponseBlocked(ApiwardError):
    """The upstream's response cannot be passed on safely; the gateway answers ``status``."""

    status = 502

    def __init__(self, reason: str, code: str) -> None:
        super().__init__(reason)
        self.reason = reason
        self.code = code


@dataclass(frozen=True, slots=True)
class MaskPolicy:
    """Which field names and values are masked. Names are matched word by word."""

    words: frozenset[str] = SENSITIVE_WORDS
    keep: frozenset[str] = DEFAULT_KEEP
    card_numbers: bool = True

    def is_sensitive(self, name: str) -> bool:
        """Whether the value of a field called ``name`` is masked."""
        if name in self.keep:
            return False
        words = [w.lower() for w in _WORDS.findall(name)]
        joined = {a + b for a, b in pairwise(words)}  # api_key -> apikey
        return not self.words.isdisjoint(words) or not self.words.isdisjoint(joined)


def _luhn(digits: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = ord(ch) - 48
        if i % 2:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


def _mask_cards(text: str) -> str:
    def repl(m: re.Match[str]) -> str:
        digits = re.sub(r"[ -]", "", m.group())
        return "*" * (len(digits) - 4) + digits[-4:] if _luhn(digits) else m.group()

    return _CARD.sub(repl, text)


@dataclass(slots=True)
class _Shape:
    """What a schema lets through. ``any_value``: keep the whole value (masking still on)."""

    any_value: bool = False
    props: dict[str, _Shape] = field(default_factory=dict)
    patterns: list[tuple[re.Pattern[str], _Shape]] = field(default_factory=list)
    additional: _Shape | None = None  # None: undeclared properties are dropped
    items: _Shape | None = None


_ANY = _Shape(any_value=True)


def _shape(schema: Any, depth: int = 0) -> _Shape:
    if schema is True or not isinstance(schema, dict) or depth > _MAX_DEPTH:
        return _ANY
    alternatives = [
        s for key in ("anyOf", "oneOf") for s in schema.get(key, ()) if isinstance(s, dict | bool)
    ]
    shaping = ("properties", "patternProperties", "additionalProperties", "items", "type")
    if not any(k in schema for k in shaping) and not alternatives:
        return _ANY
    out = _Shape()
    props = schema.get("properties")
    if isinstance(props, dict):
        out.props = {name: _shape(s, depth + 1) for name, s in props.items()}
    patterns = schema.get("patternProperties")
    if isinstance(patterns, dict):
        for pattern, s in patterns.items():
            try:
                out.patterns.append((re.compile(pattern), _shape(s, depth + 1)))
            except re.error:
                continue  # a pattern Python cannot read lets nothing through
    extra = schema.get("additionalProperties")
    if extra is True or isinstance(extra, dict):
        out.additional = _shape(extra, depth + 1)
    items = schema.get("items")
    if isinstance(items, dict | bool):
        out.items = _shape(items, depth + 1)
    elif schema.get("type") == "array" or "prefixItems" in schema:
        out.items = _ANY
    for alt in alternatives:
        out = _merge(out, _shape(alt, depth + 1))
    return out


def _merge(a: _Shape, b: _Shape) -> _Shape:
    if a.any_value or b.any_value:
        return _ANY
    props = dict(a.props)
    for name, s in b.props.items():
        props[name] = _merge(props[name], s) if name in props else s
    additional = a.additional or b.additional
    if a.additional and b.additional:
        additional = _merge(a.additional, b.additional)
    items = a.items or b.items
    if a.items and b.items:
        items = _merge(a.items, b.items)
    return _Shape(False, props, a.patterns + b.patterns, additional, items)


_PLAIN = frozenset({int, float, bool})  # scalars the walk returns as they are


def _masked(value: Any) -> Any:
    return MASK if isinstance(value, str) else None


class ResponseFilter:
    """One operation's response schemas, compiled for :meth:`filter`."""

    def __init__(
        self, operation: Operation, shapes: Mapping[str, _Shape | None], policy: MaskPolicy
    ) -> None:
        self.operation = operation
        self.policy = policy
        self._shapes = dict(shapes)  # status key ("200", "4XX", "default") -> JSON shape
        self._sensitive: dict[str, bool] = {}  # field name -> masked? (word split is ~2 µs)

    @classmethod
    def compile(
        cls, doc: Document, op: Operation, policy: MaskPolicy | None = None
    ) -> ResponseFilter:
        """Compile every JSON response schema of ``op`` (call once, at load)."""
        shapes: dict[str, _Shape | None] = {}
        for status, response in op.responses.items():
            shapes[status.upper()] = None
            for media, mt in response.content.items():
                if is_json_media(media):
                    shapes[status.upper()] = _shape(inline(doc, mt.schema))
                    break
        return cls(op, shapes, policy or MaskPolicy())

    def filter(self, status: int, body: Any) -> Any:
        """``body`` (parsed JSON) with undeclared fields dropped and sensitive values masked.

        Raises :class:`ResponseBlocked` for a status the operation does not declare,
        a JSON body where it declares none, or nesting deeper than 64 levels.
        """
        key = str(status)
        if key not in self._shapes:
            key = f"{key[0]}XX"
            if key not in self._shapes:
                key = "DEFAULT"
        if key not in self._shapes:
            raise ResponseBlocked(
                f"status {status} is not declared for {self.operation.method} "
                f"{self.operation.path}",
                "response.status",
            )
        shape = self._shapes[key]
        if shape is None:
            raise ResponseBlocked(
                f"status {status} of {self.operation.method} {self.operation.path} "
                "declares no JSON body",
                "response.media",
            )
        return self._walk(body, shape, 0)

    def _walk(self, value: Any, shape: _Shape, depth: int) -> Any:
        if depth > _MAX_DEPTH:
            raise ResponseBlocked("response nested too deeply", "response.depth")
        if isinstance(value, dict):
            return self._object(value, shape, depth)
        if isinstance(value, list):
            items = shape.items if shape.items is not None or not shape.any_value else _ANY
            if items is None:
                return []
            return self._array(value, items, depth)
        if isinstance(value, str) and self.policy.card_numbers and len(value) >= 13:
            return _mask_cards(value)
        return value

    # _object and _array settle scalars in place, without a call of _walk each: what _walk
    # would return for them (unless the depth limit is reached, where _walk refuses)

    def _object(self, value: dict[str, Any], shape: _Shape, depth: int) -> dict[str, Any]:
        out: dict[str, Any] = {}
        known = self._sensitive
        any_value, props = shape.any_value, shape.props
        cards = self.policy.card_numbers
        deeper = depth + 1
        inline = deeper <= _MAX_DEPTH
        for name, v in value.items():
            sub = _ANY if any_value else props.get(name)
            if sub is None:
                sub = self._child(shape, name)
                if sub is None:
                    continue
            secret = known.get(name)
            if secret is None:
                secret = self.policy.is_sensitive(name)
                if len(known) < 4096:  # names come from upstream: bounded
                    known[name] = secret
            if secret:
                out[name] = _masked(v)
            elif inline and (v is None or v.__class__ in _PLAIN):
                out[name] = v
            elif inline and v.__class__ is str:
                out[name] = _mask_cards(v) if cards and len(v) >= 13 else v
            else:
                out[name] = self._walk(v, sub, deeper)
        return out

    def _array(self, value: list[Any], items: _Shape, depth: int) -> list[Any]:
        out: list[Any] = []
        append = out.append
        cards = self.policy.card_numbers
        deeper = depth + 1
        inline = deeper <= _MAX_DEPTH
        for v in value:
            if inline and (v is None or v.__class__ in _PLAIN):
                append(v)
            elif inline and v.__class__ is str:
                append(_mask_cards(v) if cards and len(v) >= 13 else v)
            else:
                append(self._walk(v, items, deeper))
        return out

    @staticmethod
    def _child(shape: _Shape, name: str) -> _Shape | None:
        if shape.any_value:
            return _ANY
        sub = shape.props.get(name)
        if sub is not None:
            return sub
        for pattern, s in shape.patterns:
            if pattern.search(name):
                return s
        return shape.additional
