"""The per-operation policy the gateway middleware applies, compiled once from the spec.

Pure data and functions, no ASGI I/O: :func:`compile_policies` turns a document's
operations and the operator's limits into one :class:`OperationPolicy` per operation
(so the hot path does a dict lookup, not a scan), :func:`denial_response` renders a
refusal, :func:`security_headers` adds the response headers the app did not set.

``limits`` selectors: ``"*"`` (every operation), an ``operationId``, or an operation
key ``"GET /accounts/{id}"``. Several may apply to one operation; all are enforced.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Iterable, MutableMapping
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any

from apiward.core import Document, Match, Operation
from apiward.errors import ConfigError
from apiward.gateway.ratelimit import Limit

__all__ = [
    "OperationPolicy",
    "Refusal",
    "RequestHook",
    "compile_policies",
    "denial_response",
    "merge_missing",
    "passthrough_matcher",
    "security_headers",
]

Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]


@dataclass(frozen=True, slots=True)
class Refusal:
    """A request the gateway answers itself: ``status``, the ``policy`` that decided, a code."""

    status: int
    policy: str
    reason: str
    headers: tuple[tuple[bytes, bytes], ...] = ()
    detail: str | None = None  # for the client: says what to fix, never a secret


RequestHook = Callable[[Match, Scope, Receive], Awaitable["Receive | Refusal"]]
"""Request validation (``apiward.gateway.validate``): return the ``receive`` to pass on
(possibly wrapping the body to check it while streaming) or a :class:`Refusal`."""


@dataclass(frozen=True, slots=True)
class OperationPolicy:
    """What applies to one operation: its security stance and rate limits."""

    operation: Operation
    allow_unsecured: bool
    limits: tuple[tuple[str, Limit], ...]  # (selector that chose it, limit)


def compile_policies(
    doc: Document,
    limits: Iterable[tuple[str, Limit]] = (),
    *,
    allow_undeclared_security: bool = False,
) -> dict[str, OperationPolicy]:
    """One policy per operation key (``"GET /path"``); unknown limit selectors raise ConfigError.

    An operation is open to anonymous callers only when the spec says ``security: []`` on
    purpose (on the operation, or document-wide with no override); an operation with no
    security declared anywhere is denied unless ``allow_undeclared_security``.
    """
    ops = doc.operations
    global_empty = doc.raw.get("security") == []
    limits = list(limits)
    known = {"*"} | {op.key for op in ops} | {op.operation_id for op in ops if op.operation_id}
    for selector, limit in limits:
        if selector not in known:
            raise ConfigError(f"rate limit selector {selector!r} names no operation", key="limits")
        if not isinstance(limit, Limit):
            raise ConfigError(f"rate limit for {selector!r} is not a Limit", key="limits")
    out: dict[str, OperationPolicy] = {}
    for op in ops:
        if op.security is not None:
            open_ = op.security == []
        else:
            open_ = global_empty or (not op.effective_security and allow_undeclared_security)
        chosen = tuple((sel, lim) for sel, lim in limits if sel in ("*", op.key, op.operation_id))
        out[op.key] = OperationPolicy(op, open_, chosen)
    return out


def passthrough_matcher(entries: Iterable[str]) -> Callable[[str, str], bool]:
    """``(method, canonical path) -> bool`` for the pass-through list.

    Entries: ``"/health"`` (exact path, any method), ``"GET /health"``, ``"/static/*"``
    (every path under ``/static/``). Paths are compared in canonical form.
    """
    exact: set[tuple[str, str]] = set()
    prefixes: list[tuple[str, str]] = []
    for entry in entries:
        method, _, path = entry.strip().rpartition(" ")
        method = method.strip().upper() or "*"
        if not path.startswith("/"):
            raise ConfigError(f"pass-through entry {entry!r} must be a path", key="passthrough")
        if path.endswith("/*"):
            prefixes.append((method, path[:-1]))
        elif "*" in path:
            raise ConfigError(f"pass-through entry {entry!r}: '*' only as '/*' at the end")
        else:
            exact.add((method, path))

    def matches(method: str, path: str) -> bool:
        if (method, path) in exact or ("*", path) in exact:
            return True
        return any(m in ("*", method) and path.startswith(p) for m, p in prefixes)

    return matches


def denial_response(
    status: int,
    reason: str,
    extra: Iterable[tuple[bytes, bytes]] = (),
    detail: str | None = None,
) -> tuple[list[tuple[bytes, bytes]], bytes]:
    """Headers and body of a refusal: ``{"error": <status phrase>, "reason": <code>}``.

    Only the stable code goes out, plus ``detail`` where a policy wrote one for the
    client (validation names the field to fix): messages that may name schemes, keys
    or backends stay in the logs.
    """
    payload = {"error": HTTPStatus(status).phrase, "reason": reason}
    if detail:
        payload["detail"] = detail
    body = json.dumps(payload).encode()
    headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
        (b"cache-control", b"no-store"),
        *extra,
    ]
    return headers, body


_NOSNIFF = (b"x-content-type-options", b"nosniff")
_NO_STORE = (b"cache-control", b"no-store")
_NO_FRAME = (b"x-frame-options", b"DENY")
_CSP = (b"content-security-policy", b"default-src 'none'; frame-ancestors 'none'")


def security_headers(
    headers: list[tuple[bytes, bytes]],
    *,
    authenticated: bool,
    remove: frozenset[bytes] = frozenset(),
) -> list[tuple[bytes, bytes]]:
    """``headers`` plus the security headers missing from them; the app's own values win.

    ``Cache-Control: no-store`` only for authenticated responses (shared caches must not
    keep one user's data); framing and CSP lock-down only for non-HTML responses, since an
    HTML page's own policy is the app's to write. Headers named in ``remove`` (lower case)
    are dropped first.
    """
    # one pass: this runs on every response
    present: set[bytes] = set()
    ctype = b""
    out: list[tuple[bytes, bytes]] = []
    for pair in headers:
        name = pair[0].lower()
        if name in remove:
            continue
        out.append(pair)
        present.add(name)
        if name == b"content-type":
            ctype = pair[1].lower()
    if b"x-content-type-options" not in present:
        out.append(_NOSNIFF)
    if authenticated and b"cache-control" not in present:
        out.append(_NO_STORE)
    if not ctype.startswith(b"text/html"):
        if b"x-frame-options" not in present:
            out.append(_NO_FRAME)
        if b"content-security-policy" not in present:
            out.append(_CSP)
    return out


def merge_missing(
    headers: list[tuple[bytes, bytes]], extra: Iterable[tuple[bytes, bytes]]
) -> list[tuple[bytes, bytes]]:
    """``headers`` plus those of ``extra`` whose name the app has not set."""
    present = {name.lower() for name, _ in headers}
    return headers + [(n, v) for n, v in extra if n not in present]
