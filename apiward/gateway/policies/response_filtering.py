"""``response-filter``: only the fields the response schema declares leave the gateway."""

from __future__ import annotations

import json
import json.encoder
import re
from collections.abc import Callable
from typing import Any

from apiward.gateway.chain import ApiSetup, Exchange, Headers, Policy, register
from apiward.gateway.policy import Refusal
from apiward.gateway.response_filter import MaskPolicy, ResponseBlocked, ResponseFilter
from apiward.gateway.validate import is_json_media

__all__ = ["ResponseFiltering"]

_MAX_BODY = 8 << 20


@register
class ResponseFiltering(Policy):
    """Strip undeclared fields from JSON responses and mask sensitive values (502 if unsafe).

    Applies to JSON responses (``application/json``, ``+json``) of routed operations; other
    media types pass as they are, but for one case: a 5xx answer that is not JSON (a
    framework's error page, a stack trace) goes out as a generic JSON error with the same
    status (``mask_upstream_errors``), on pass-through paths too. A status the operation
    does not declare, a JSON body where it declares none, an unparseable body or one over
    ``max_body_bytes`` is refused with 502: the gateway cannot tell what in it is safe to
    send.
    """

    name = "response-filter"
    order = 60

    def __init__(
        self,
        setup: ApiSetup,
        mask: MaskPolicy | None = None,
        *,
        max_body_bytes: int = _MAX_BODY,
        mask_upstream_errors: bool = True,
    ) -> None:
        self._filters = {
            op.key: ResponseFilter.compile(setup.doc, op, mask) for op in setup.doc.operations
        }
        self.max_body_bytes = max_body_bytes
        self.mask_upstream_errors = mask_upstream_errors

    @classmethod
    def from_setup(cls, setup: ApiSetup) -> ResponseFiltering | None:
        section = setup.section
        if section is None or not section.response_filter.enabled:
            return None
        rf = section.response_filter
        mask = MaskPolicy(
            words=MaskPolicy().words | frozenset(w.lower() for w in rf.mask_fields),
            keep=frozenset(rf.keep_fields) | MaskPolicy().keep,
            card_numbers=rf.mask_card_numbers,
        )
        return cls(
            setup,
            mask,
            max_body_bytes=rf.max_body_bytes,
            mask_upstream_errors=rf.mask_upstream_errors,
        )

    def wants_body(self, ex: Exchange, status: int, headers: Headers) -> bool:
        if ex.method == "HEAD" or status in (204, 304):
            return False
        if status >= 500 and self.mask_upstream_errors and not _is_json(headers):
            return True  # pass-through paths too: an error page is no less telling there
        return ex.match is not None and _is_json(headers)

    def on_body(
        self, ex: Exchange, status: int, headers: Headers, body: bytes
    ) -> tuple[Headers, bytes] | Refusal:
        if status >= 500 and not _is_json(headers):  # an error page: for the operator's logs
            kept = [(n, v) for n, v in headers if n.lower() != b"content-type"]
            generic = b'{"error":"upstream_error","status":%d}' % status
            return [*kept, (b"content-type", b"application/json")], generic
        assert ex.match is not None  # wants_body said so
        if not body:
            return headers, body
        try:
            value = _loads(body)
            filtered = self._filters[ex.match.operation.key].filter(status, value)
        except ResponseBlocked as exc:
            return Refusal(502, self.name, exc.code)
        except (ValueError, RecursionError):
            return Refusal(502, self.name, "response.json")
        try:
            return headers, _dumps(filtered).encode()
        except UnicodeEncodeError:  # "\ud800" parses, but is no text a client can decode
            return Refusal(502, self.name, "response.json")


def _is_json(headers: Headers) -> bool:
    for name, value in headers:
        if name.lower() == b"content-type":
            return is_json_media(value.decode("latin-1"))
    return False


# json.loads and json.dumps with their per-call set-up done once: json.dumps with options
# builds an encoder per call; json.loads sniffs, then decodes in Python around the C scanner.
_DECODER = json.JSONDecoder()
_scan: Callable[[str, int], tuple[Any, int]] = _DECODER.scan_once  # type: ignore[attr-defined]
_space = re.compile(r"[ \t\n\r]*").match  # json.decoder.WHITESPACE
_SPACE = " \t\n\r"  # ("" is in it too: an empty body goes the regular way)


def _loads(body: bytes) -> Any:
    """``json.loads(body)``: the same encodings, values and refusals (as ValueError)."""
    # a first byte in 1-127 and a second one not 0 is no BOM or UTF-16/32: detect_encoding
    # would say UTF-8 (asking it costs more than the rest of the parse of a small body)
    utf8 = len(body) >= 2 and 0 < body[0] < 0x80 and body[1]
    text = body.decode("utf-8" if utf8 else json.detect_encoding(body), "surrogatepass")
    start = _space(text, 0).end() if text[:1] in _SPACE else 0  # type: ignore[union-attr]
    try:
        value, end = _scan(text, start)
    except StopIteration as err:
        raise json.JSONDecodeError("Expecting value", text, err.value) from None
    if end != len(text):
        end = _space(text, end).end()  # type: ignore[union-attr]
        if end != len(text):
            raise json.JSONDecodeError("Extra data", text, end)
    return value


def _compact_encoder() -> Callable[[Any], str]:
    encoder = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"))
    make = getattr(json.encoder, "c_make_encoder", None)
    if make is None:  # no C accelerator: the standard path
        return encoder.encode
    # no circular-reference markers: a parsed body cannot refer to itself
    basestring = json.encoder.encode_basestring
    c_encode = make(None, encoder.default, basestring, None, ":", ",", False, False, True)

    def encode(value: Any) -> str:
        return "".join(c_encode(value, 0))

    return encode


_dumps = _compact_encoder()
