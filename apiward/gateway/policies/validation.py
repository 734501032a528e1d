"""``validation``: parameters, media type and body against the operation's schemas."""

from __future__ import annotations

from urllib.parse import parse_qsl, unquote

from apiward.gateway.chain import ApiSetup, Exchange, Message, Policy, Receive, register
from apiward.gateway.policy import Refusal
from apiward.gateway.validate import Limits, OperationValidator, RequestRejected, read_body

__all__ = ["Validation"]

_BODY_HEADERS = frozenset({b"content-type", b"content-length", b"transfer-encoding"})


@register
class Validation(Policy):
    """Refuse requests the spec does not describe: 400, 413 or 415 with the field named.

    Path, query, header and cookie parameters are coerced and validated; an undeclared
    query parameter or body property, a repeated single-valued one, a body the operation
    does not take, a
    ``Content-Type`` it does not list, a duplicate JSON key or a nesting deeper than
    ``max_depth`` are refused. The size limit holds while the body streams in (chunked
    bodies and a lying ``Content-Length`` included); the app then reads the checked bytes.
    Validators are compiled once per operation (jsonschema-rs).
    """

    name = "validation"
    order = 50

    def __init__(self, setup: ApiSetup, limits: Limits | None = None) -> None:
        self._validators = {
            op.key: OperationValidator.compile(setup.doc, op, limits) for op in setup.doc.operations
        }
        # which operations read header or cookie parameters: only those decode every header
        self._needs_headers = {
            op.key
            for op in setup.doc.operations
            if any(p.param_in in ("header", "cookie") for p in op.parameters)
        }

    @classmethod
    def from_setup(cls, setup: ApiSetup) -> Validation | None:
        section = setup.section
        if section is None or not section.validation.enabled:
            return None
        v = section.validation
        limits = Limits(
            max_body_bytes=v.max_body_bytes,
            max_depth=v.max_depth,
            unknown_query="allow" if v.allow_unknown_query else "reject",
            unknown_properties="allow" if v.allow_unknown_properties else "reject",
        )
        return cls(setup, limits)

    async def on_request(self, ex: Exchange) -> Refusal | None:
        match = ex.match
        if match is None:
            return None
        key = match.operation.key
        v = self._validators[key]
        headers: dict[str, str] = {}
        if key in self._needs_headers:
            for name, value in ex.headers:
                headers.setdefault(name.decode("latin-1").lower(), value.decode("latin-1"))
        else:
            for name, value in ex.headers:
                low = name.lower()
                if low in _BODY_HEADERS:
                    headers.setdefault(low.decode("latin-1"), value.decode("latin-1"))
        try:
            query = ex.scope.get("query_string", b"")
            pairs = _query_pairs(query.decode("latin-1")) if query else []
            params = match.path_params
            for text in params.values():
                if "%" in text:  # rare: most path parameters need no decoding
                    params = {k: unquote(v) for k, v in params.items()}
                    break
            v.check_params(params, pairs, headers, _cookies(headers.get("cookie")))
            length = headers.get("content-length")
            declared = int(length) if length is not None and length.isdigit() else None
            has_body = bool(declared) or "transfer-encoding" in headers
            media = v.check_content_type(headers.get("content-type"), has_body)
            if not has_body:
                return None
            raw = await read_body(ex.receive, v.limits.max_body_bytes, content_length=declared)
            v.check_body(raw, media)
        except RequestRejected as exc:
            return Refusal(exc.status, self.name, exc.code, detail=str(exc))
        ex.receive = _replay(raw, ex.receive)
        return None


def _query_pairs(query: str) -> list[tuple[str, str]]:
    """``parse_qsl(query, keep_blank_values=True)``, without its overhead when nothing in
    ``query`` needs unquoting (no ``%``, no ``+``): the common case."""
    if "%" in query or "+" in query:
        return parse_qsl(query, keep_blank_values=True)
    out: list[tuple[str, str]] = []
    for item in query.split("&"):
        if item:
            name, _, value = item.partition("=")
            out.append((name, value))
    return out


def _cookies(line: str | None) -> dict[str, str]:
    if not line:
        return {}
    out: dict[str, str] = {}
    for item in line.split(";"):
        k, sep, v = item.strip().partition("=")
        if sep:
            out.setdefault(k, v)
    return out


def _replay(body: bytes, receive: Receive) -> Receive:
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()  # after the body: wait for the disconnect, as servers do

    return replay
