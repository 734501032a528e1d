"""Request validation against the operation's schemas: parameters, media type, body.

Compiled once per operation when the spec is loaded (jsonschema-rs, draft 2020-12:
OpenAPI 3.1 schemas as they are, 3.0 ones translated), then a few microseconds per
request. How the gateway calls it, after routing and authentication::

    validators = {op: OperationValidator.compile(doc, op) for op in doc.operations}
    ...
    v = validators[match.operation]
    try:
        v.check_params(match.path_params, query_pairs, headers, cookies)
        media = v.check_content_type(headers.get("content-type"), has_body)
        raw = await read_body(receive, v.limits.max_body_bytes, content_length=cl)
        v.check_body(raw, media)
    except RequestRejected as exc:
        return deny(exc.status, exc.code, exc.reason)   # 400 / 413 / 415

The positive security model holds throughout: an unknown query parameter, a body
the operation does not declare, a media type it does not list, a repeated
single-valued parameter (HTTP parameter pollution), a duplicate JSON key, NaN or a
nesting deeper than ``max_depth`` are all refused. Messages name the parameter or
the JSON pointer of the field and never echo long or secret-looking values.
"""

from __future__ import annotations

import json
import re
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Literal
from urllib.parse import parse_qsl

import jsonschema_rs

from apiward.core import Document, Operation, inline
from apiward.core.model import Parameter
from apiward.errors import InputError

__all__ = [
    "BodyIncomplete",
    "Limits",
    "OperationValidator",
    "PayloadTooLarge",
    "RequestRejected",
    "UnsupportedMediaType",
    "ValidationFailed",
    "close_objects",
    "compile_schema",
    "is_json_media",
    "parse_json",
    "read_body",
]

Receive = Callable[[], Awaitable[Mapping[str, Any]]]
Validator = Any  # jsonschema_rs validators share no public base class

_SENSITIVE = re.compile(r"pass|secret|token|ssn|card|cvv|pin|key|auth|otp", re.IGNORECASE)
_INT = re.compile(r"-?(?:0|[1-9][0-9]*)")  # int() also takes " 1", "+1", "1_0"
_NUM = re.compile(r"-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?")
_JSON_TOKENS = re.compile(rb'"(?:[^"\\]|\\.)*"|[\[\]{}]', re.DOTALL)
_MAX_ECHO = 32  # characters of a client's value that may appear in a message


class RequestRejected(InputError):
    """A request the gateway refuses; it answers ``status``.

    ``code`` is a stable identifier for metrics and the audit log (``body.schema``,
    ``query.unknown`` ...), ``where`` the parameter or JSON pointer concerned and
    ``reason`` (from :class:`InputError`) the human message.
    """

    status = 400

    def __init__(self, reason: str, *, code: str, where: str = "") -> None:
        super().__init__(reason)
        self.code = code
        self.where = where


class ValidationFailed(RequestRejected):
    """A parameter or the body does not match the operation's schema (400)."""


class BodyIncomplete(RequestRejected):
    """The client went away or sent an endless stream of empty chunks (400)."""


class PayloadTooLarge(RequestRejected):
    """The body is larger than the limit (413); raised before buffering past it."""

    status = 413


class UnsupportedMediaType(RequestRejected):
    """``Content-Type`` is missing or not one the operation declares (415)."""

    status = 415


@dataclass(frozen=True, slots=True)
class Limits:
    """What a request may carry. ``unknown_query`` / ``unknown_properties`` = ``"allow"``
    relax the positive model (undeclared query parameters, undeclared body properties)."""

    max_body_bytes: int = 1 << 20
    max_depth: int = 32
    max_form_fields: int = 256
    unknown_query: Literal["reject", "allow"] = "reject"
    unknown_properties: Literal["reject", "allow"] = "reject"


# -- schemas --------------------------------------------------------------------------------


def _from_oas30(node: Any) -> Any:
    """OpenAPI 3.0 schema keywords in their JSON Schema 2020-12 spelling."""
    if isinstance(node, list):
        return [_from_oas30(n) for n in node]
    if not isinstance(node, dict):
        return node
    out = {k: _from_oas30(v) for k, v in node.items()}
    if out.pop("nullable", False) is True:
        t = out.get("type")
        if isinstance(t, str):
            out["type"] = [t, "null"]
        elif isinstance(t, list) and "null" not in t:
            out["type"] = [*t, "null"]
        if isinstance(out.get("enum"), list) and None not in out["enum"]:
            out["enum"] = [*out["enum"], None]
    for bound in ("Minimum", "Maximum"):
        flag = out.get("exclusive" + bound)
        if isinstance(flag, bool):  # draft 4 form: a flag on minimum/maximum
            limit = out.pop(bound.lower(), None)
            del out["exclusive" + bound]
            if flag and limit is not None:
                out["exclusive" + bound] = limit
            elif limit is not None:
                out[bound.lower()] = limit
    return out


def compile_schema(
    doc: Document, schema: Any, *, closed: bool = False
) -> tuple[dict[str, Any], Validator]:
    """The inlined schema and its compiled validator (formats such as ``email`` checked).

    ``closed``: objects take only the properties they list (see :func:`close_objects`).
    """
    data = inline(doc, schema)
    if not doc.is_openapi31:
        data = _from_oas30(data)
    if closed:
        data = close_objects(data)
    return data, jsonschema_rs.Draft202012Validator(data, validate_formats=True)


_OPEN = frozenset({"additionalProperties", "patternProperties", "unevaluatedProperties"})
_BRANCHES = ("allOf", "anyOf", "oneOf")  # subschemas of the same object
_ADDS = ("then", "else")  # subschemas that may add properties when they apply
_CONDITIONS = frozenset({"if", "then", "else", "dependentSchemas"})
_CONSTRAINTS = frozenset(
    {"required", "minProperties", "maxProperties", "dependentRequired", "not", "const", "enum"}
)


def close_objects(schema: Any, *, level: bool = True) -> Any:
    """``schema`` with the objects it describes closed to the properties they list.

    The positive model for request bodies: a property the spec does not describe (``role``,
    ``is_admin`` sent to a profile update: mass assignment) is refused, as an undeclared
    query parameter is. An object that lists ``properties`` gets ``additionalProperties:
    false``; one whose properties may also come from subschemas (``allOf``, ``anyOf``,
    ``oneOf``, ``if``/``then``/``else``) gets ``unevaluatedProperties: false``, which
    counts what the matching subschemas list, provided every one of them lists its
    properties (a free-form branch leaves the object open). A schema that says
    ``additionalProperties`` (``true`` included), ``patternProperties`` or
    ``unevaluatedProperties`` is left as it says. Conditions (``not``, ``if``,
    ``contains``, ``dependentSchemas``) are never rewritten: closing inside them would
    change what they match. ``level=False``: a branch, which describes its parent's
    object, so only what is nested in it is closed.
    """
    if not isinstance(schema, dict):
        return schema
    out = dict(schema)
    props = schema.get("properties")
    if isinstance(props, dict):
        out["properties"] = {name: close_objects(v) for name, v in props.items()}
    for key in ("items", "additionalProperties"):
        if isinstance(schema.get(key), dict):
            out[key] = close_objects(schema[key])
    if isinstance(schema.get("prefixItems"), list):
        out["prefixItems"] = [close_objects(v) for v in schema["prefixItems"]]
    if isinstance(schema.get("patternProperties"), dict):
        out["patternProperties"] = {
            k: close_objects(v) for k, v in schema["patternProperties"].items()
        }
    branches: list[Any] = []
    for key in _BRANCHES:
        if isinstance(schema.get(key), list):
            out[key] = [close_objects(b, level=False) for b in schema[key]]
            branches += schema[key]
    for key in _ADDS:
        if key in schema:
            out[key] = close_objects(schema[key], level=False)
            branches.append(schema[key])
    if not level or _OPEN & schema.keys():
        return out
    if branches or _CONDITIONS & schema.keys():
        if "dependentSchemas" not in schema and all(_lists_properties(b) for b in branches):
            out["unevaluatedProperties"] = False
    elif isinstance(props, dict):
        out["additionalProperties"] = False
    return out


def _lists_properties(schema: Any) -> bool:
    """Whether ``schema`` says which properties an object may have (or is no object)."""
    if not isinstance(schema, dict):
        return schema is not True
    if _OPEN & schema.keys():
        return False  # it says for itself how others are treated
    types = _types(schema)
    if types and "object" not in types:
        return True
    nested = [b for key in _BRANCHES if isinstance(schema.get(key), list) for b in schema[key]]
    if nested:
        return all(_lists_properties(b) for b in nested)
    # a branch of constraints only ({"required": [...]}) adds no property; a bare {} or
    # {"type": "object"} means "any object", and closing its parent would refuse them all
    return isinstance(schema.get("properties"), dict) or bool(_CONSTRAINTS & schema.keys())


def _types(schema: Mapping[str, Any]) -> tuple[str, ...]:
    t = schema.get("type")
    if isinstance(t, str):
        return (t,)
    if isinstance(t, list):
        return tuple(x for x in t if isinstance(x, str))
    return ()


def _echo(value: Any, field: str) -> str:
    """``value`` as it may appear in a message: short, and never a secret."""
    if _SENSITIVE.search(field):
        return "the value"
    text = json.dumps(value, ensure_ascii=True, default=str)
    return text if len(text) <= _MAX_ECHO else text[: _MAX_ECHO - 4] + "…" + text[-1]


def _first_error(validator: Validator, value: Any, where: str) -> ValidationFailed:
    try:
        err = next(iter(validator.iter_errors(value)))
    except StopIteration:  # is_valid and iter_errors disagree: refuse all the same
        return ValidationFailed(f"{where}: invalid", code="schema", where=where)
    pointer = "".join(f"/{p}" for p in err.instance_path)
    field = where + pointer
    message = str(err.message)
    shown = json.dumps(err.instance, ensure_ascii=False, default=str)
    if shown and shown in message:
        message = message.replace(shown, _echo(err.instance, field), 1)
    if len(message) > 200:
        message = message[:197] + "..."
    kind = type(err.kind).__name__.lower()
    return ValidationFailed(f"{field}: {message}", code=f"schema.{kind}", where=field)


def _validate(validator: Validator, value: Any, where: str) -> None:
    try:
        ok = validator.is_valid(value)
    except Exception:  # a value the validator cannot take (lone surrogate ...): fail closed
        raise ValidationFailed(f"{where}: unreadable value", code="schema", where=where) from None
    if not ok:
        raise _first_error(validator, value, where)


# -- JSON ---------------------------------------------------------------------------------


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out = dict(pairs)
    if len(out) != len(pairs):
        seen: set[str] = set()
        dup = next(k for k, _ in pairs if k in seen or seen.add(k))  # type: ignore[func-returns-value]
        raise ValidationFailed(
            f"body: duplicate key {_echo(dup, '')}", code="body.duplicate_key", where="body"
        )
    return out


def _no_constant(name: str) -> Any:
    raise ValidationFailed(f"body: {name} is not JSON", code="body.json", where="body")


# one decoder built once: json.loads(..., hook=...) builds a new one per call (~1.5 µs)
_DECODER = json.JSONDecoder(object_pairs_hook=_no_duplicates, parse_constant=_no_constant)


def _depth(raw: bytes) -> int:
    depth = deepest = 0
    for m in _JSON_TOKENS.finditer(raw):
        tok = m.group()
        if tok in (b"{", b"["):
            depth += 1
            deepest = max(deepest, depth)
        elif tok in (b"}", b"]"):
            depth -= 1
    return deepest


def parse_json(raw: bytes, *, max_depth: int = 32, where: str = "body") -> Any:
    """``raw`` parsed strictly: duplicate keys, NaN/Infinity, bad UTF-8, deep nesting refused."""
    # a body can nest no deeper than its bracket count: most skip the scan
    if raw.count(b"{") + raw.count(b"[") > max_depth and _depth(raw) > max_depth:
        raise ValidationFailed(
            f"{where}: JSON nested deeper than {max_depth} levels", code="body.depth", where=where
        )
    try:
        # RFC 8259: UTF-8 only (json.loads would also guess UTF-16/32 from the bytes)
        return _DECODER.decode(raw.decode("utf-8"))
    except RequestRejected as exc:  # raised by the hooks, which cannot know ``where``
        if where == "body":
            raise
        reason = where + exc.reason.removeprefix("body")
        raise ValidationFailed(reason, code=exc.code, where=where) from None
    except (ValueError, RecursionError) as exc:
        detail = f" (line {exc.lineno})" if isinstance(exc, json.JSONDecodeError) else ""
        raise ValidationFailed(
            f"{where}: not valid JSON{detail}", code="body.json", where=where
        ) from None


# -- parameters -----------------------------------------------------------------------------


def _scalar(text: str, types: tuple[str, ...]) -> Any:
    """A parameter string as the value its schema types expect; left a string otherwise."""
    if "integer" in types and _INT.fullmatch(text):
        return int(text)
    if "number" in types and _NUM.fullmatch(text):
        return float(text) if any(c in text for c in ".eE") else int(text)
    if "boolean" in types and text in ("true", "false"):
        return text == "true"
    if "null" in types and text == "":
        return None
    return text


_SEPARATORS = {"form": ",", "simple": ",", "spaceDelimited": " ", "pipeDelimited": "|"}


@dataclass(frozen=True, slots=True)
class _Param:
    name: str
    where: str  # "query parameter 'limit'"
    required: bool
    types: tuple[str, ...]
    item_types: tuple[str, ...]
    separator: str | None  # arrays: split one value on it; None: repeated keys (form explode)
    is_json: bool  # declared with `content` (a serialized JSON value) instead of `schema`
    validator: Validator

    def value(self, texts: list[str], max_depth: int) -> Any:
        if self.is_json:
            if len(texts) > 1:
                raise self._repeated()
            return parse_json(texts[0].encode(), max_depth=max_depth, where=self.where)
        if "array" in self.types:
            items = (
                texts
                if self.separator is None
                else [part for t in texts for part in t.split(self.separator)]
            )
            return [_scalar(t, self.item_types) for t in items]
        if len(texts) > 1:  # HTTP parameter pollution: which one would the upstream take?
            raise self._repeated()
        return _scalar(texts[0], self.types)

    def _repeated(self) -> ValidationFailed:
        return ValidationFailed(
            f"{self.where} given more than once", code="param.repeated", where=self.where
        )


def _compile_param(doc: Document, p: Parameter) -> _Param:
    data, validator = compile_schema(doc, p.schema)
    items = data.get("items")
    style = p.raw.get("style") or ("form" if p.param_in in ("query", "cookie") else "simple")
    explode = p.raw.get("explode", style == "form")
    separator = None if (style == "form" and explode is True) else _SEPARATORS.get(style, ",")
    return _Param(
        name=p.name,
        where=f"{p.param_in} parameter '{p.name}'",
        required=p.required or p.param_in == "path",
        types=_types(data) or ("string",),
        item_types=_types(items) if isinstance(items, dict) else (),
        separator=separator,
        is_json="schema" not in p.raw and isinstance(p.raw.get("content"), dict),
        validator=validator,
    )


# -- media types ----------------------------------------------------------------------------


def _essence(content_type: str) -> str:
    return content_type.split(";", 1)[0].strip().lower()


def is_json_media(content_type: str) -> bool:
    """Whether a media type or ``Content-Type`` value is JSON (``application/json``, ``+json``)."""
    media = _essence(content_type)
    return media == "application/json" or media.endswith("+json")


@dataclass(frozen=True, slots=True)
class _Body:
    media: str  # as declared, lower case
    validator: Validator | None
    properties: Mapping[str, Any]  # form bodies: each property's schema, for coercion


# -- the validator --------------------------------------------------------------------------


class OperationValidator:
    """Everything needed to check one operation's requests, compiled once.

    Build it with :meth:`compile`; the ``check_*`` methods raise a
    :class:`RequestRejected` subclass or return quietly.
    """

    def __init__(
        self,
        operation: Operation,
        params: list[_Param],
        bodies: list[_Body],
        body_required: bool,
        allowed_query: frozenset[str],
        limits: Limits,
    ) -> None:
        self.operation = operation
        self.limits = limits
        by_in: dict[str, list[_Param]] = {}
        for p in params:
            by_in.setdefault(p.where.split(" ", 1)[0], []).append(p)
        self._path = tuple(by_in.get("path", ()))
        self._query = tuple(by_in.get("query", ()))
        self._header = tuple(by_in.get("header", ()))
        self._cookie = tuple(by_in.get("cookie", ()))
        self._bodies = {b.media: b for b in bodies}
        self._body_required = body_required
        self._allowed_query = allowed_query

    @classmethod
    def compile(
        cls, doc: Document, op: Operation, limits: Limits | None = None
    ) -> OperationValidator:
        """Compile every parameter and request-body schema of ``op`` (call once, at load)."""
        params = [
            _compile_param(doc, p)
            for p in op.parameters
            if p.param_in in ("path", "query", "header", "cookie")
        ]
        bodies: list[_Body] = []
        if op.request_body is not None:
            for media, mt in op.request_body.content.items():
                closed = (limits or Limits()).unknown_properties == "reject"
                data, validator = compile_schema(doc, mt.schema, closed=closed)
                props = data.get("properties")
                bodies.append(
                    _Body(
                        _essence(media),
                        validator if mt.schema is not None else None,
                        props if isinstance(props, dict) else {},
                    )
                )
        # an API key the security schemes put in the query is a declared query parameter too
        schemes = doc.security_schemes
        allowed = {p.name for p in params if p.where.startswith("query")}
        for requirement in op.effective_security:
            for name in requirement.schemes:
                s = schemes.get(name)
                if s is not None and s.type == "apiKey" and s.param_in == "query" and s.param_name:
                    allowed.add(s.param_name)
        required = op.request_body is not None and op.request_body.required
        return cls(op, params, bodies, required, frozenset(allowed), limits or Limits())

    # -- parameters ---

    def check_params(
        self,
        path_params: Mapping[str, str],
        query: Iterable[tuple[str, str]],
        headers: Mapping[str, str],
        cookies: Mapping[str, str],
    ) -> None:
        """Required parameters present, each coerced from its string and validated.

        ``path_params`` are the router's (percent-decoded) values, ``query`` the decoded
        pairs in order, ``headers`` keyed by lower-case name, ``cookies`` by name.
        """
        grouped: dict[str, list[str]] = {}
        for name, value in query:
            values = grouped.get(name)
            if values is None:
                grouped[name] = [value]
            else:
                values.append(value)
        if (
            grouped
            and self.limits.unknown_query == "reject"
            and not self._allowed_query.issuperset(grouped)
        ):
            name = min(grouped.keys() - self._allowed_query)
            where = f"query parameter {_echo(name, '')}"
            raise ValidationFailed(
                f"{where} is not declared for this operation",
                code="query.unknown",
                where=where,
            )
        depth = self.limits.max_depth
        check = self._check
        # present path and query parameters (most of them) are validated here, not via _check
        for p in self._path:
            text = path_params.get(p.name)
            if text is None:
                check(p, [], depth)
            else:
                _validate(p.validator, p.value([text], depth), p.where)
        for p in self._query:
            texts = grouped.get(p.name)
            if texts is None:
                check(p, [], depth)
            else:
                _validate(p.validator, p.value(texts, depth), p.where)
        for p in self._header:
            h = headers.get(p.name.lower())
            check(p, [] if h is None else [h], depth)
        for p in self._cookie:
            c = cookies.get(p.name)
            check(p, [] if c is None else [c], depth)

    @staticmethod
    def _check(p: _Param, texts: list[str], depth: int) -> None:
        if not texts:
            if p.required:
                raise ValidationFailed(
                    f"{p.where} is required", code="param.missing", where=p.where
                )
            return
        _validate(p.validator, p.value(texts, depth), p.where)

    # -- media type and body ---

    def check_content_type(self, content_type: str | None, has_body: bool) -> str | None:
        """The declared media type the request's ``Content-Type`` matches (None: no body).

        Declared wildcards (``application/*``, ``*/*``) match; a body where the
        operation declares none, or a missing ``Content-Type``, is refused (415).
        """
        if not has_body:
            if self._body_required:
                raise ValidationFailed(
                    "request body is required", code="body.missing", where="body"
                )
            return None
        if not self._bodies:
            raise UnsupportedMediaType(
                "this operation takes no request body", code="body.unexpected", where="body"
            )
        if not content_type:
            raise UnsupportedMediaType(
                "Content-Type is required with a body", code="media.missing", where="Content-Type"
            )
        media = _essence(content_type)
        if media in self._bodies:
            return media
        family = media.split("/", 1)[0] + "/*"
        for candidate in (family, "*/*"):
            if candidate in self._bodies:
                return candidate
        raise UnsupportedMediaType(
            f"Content-Type {_echo(media, '')} is not accepted; "
            f"expected {', '.join(sorted(self._bodies))}",
            code="media.unsupported",
            where="Content-Type",
        )

    def check_body(self, raw: bytes, media_type: str | None) -> Any:
        """Size, then (JSON and form bodies) syntax and schema; returns the parsed value.

        ``media_type`` is what :meth:`check_content_type` returned. Other media types,
        declared wildcards (``*/*``) included, get the size check only.
        """
        if len(raw) > self.limits.max_body_bytes:
            raise PayloadTooLarge(
                f"body is larger than {self.limits.max_body_bytes} bytes",
                code="body.too_large",
                where="body",
            )
        body = self._bodies.get(media_type) if media_type is not None else None
        if body is None:
            return None
        if is_json_media(media_type or ""):
            value = parse_json(raw, max_depth=self.limits.max_depth)
        elif media_type == "application/x-www-form-urlencoded":
            value = self._form(raw, body)
        else:
            return None
        if body.validator is not None:
            _validate(body.validator, value, "body")
        return value

    def _form(self, raw: bytes, body: _Body) -> dict[str, Any]:
        try:
            pairs = parse_qsl(
                raw.decode("utf-8"),
                keep_blank_values=True,
                strict_parsing=bool(raw),
                max_num_fields=self.limits.max_form_fields,
            )
        except ValueError:  # bad UTF-8, a field without "=", too many fields
            raise ValidationFailed(
                "body: not a valid form (application/x-www-form-urlencoded)",
                code="body.form",
                where="body",
            ) from None
        out: dict[str, Any] = {}
        for name, text in pairs:
            schema = body.properties.get(name)
            types = _types(schema) if isinstance(schema, dict) else ()
            if "array" in types:
                items = schema.get("items") if isinstance(schema, dict) else None
                item_types = _types(items) if isinstance(items, dict) else ()
                out.setdefault(name, []).append(_scalar(text, item_types))
            elif name in out:
                where = f"body/{name}"
                raise ValidationFailed(
                    f"{where} given more than once", code="param.repeated", where=where
                )
            else:
                out[name] = _scalar(text, types)
        return out


# -- reading the body -----------------------------------------------------------------------


async def read_body(
    receive: Receive, max_bytes: int, *, content_length: int | None = None, max_chunks: int = 65536
) -> bytes:
    """The whole ASGI request body, refused (413) as soon as it would pass ``max_bytes``.

    The limit is enforced on the bytes actually received, so chunked bodies and a
    lying ``Content-Length`` cannot bypass it; a declared length over the limit is
    refused before anything is read.
    """
    if content_length is not None and content_length > max_bytes:
        raise PayloadTooLarge(
            f"body is larger than {max_bytes} bytes", code="body.too_large", where="body"
        )
    buf = bytearray()
    for _ in range(max_chunks):
        message = await receive()
        kind = message.get("type")
        if kind == "http.disconnect":
            raise BodyIncomplete("client disconnected", code="body.disconnect", where="body")
        if kind != "http.request":
            continue
        chunk = message.get("body", b"")
        if len(buf) + len(chunk) > max_bytes:
            raise PayloadTooLarge(
                f"body is larger than {max_bytes} bytes", code="body.too_large", where="body"
            )
        buf += chunk
        if not message.get("more_body", False):
            return bytes(buf)
    raise BodyIncomplete(
        f"body sent in more than {max_chunks} chunks", code="body.chunks", where="body"
    )
