"""The gateway as pure ASGI middleware: the spec's positive security model in front of an app.

Wrap any ASGI app (Starlette, FastAPI, or the reverse proxy's upstream client)::

    doc = load("openapi.yaml")
    app = GatewayMiddleware(app, doc,
                            authenticators={"bearerAuth": JwtVerifier([JwtKey(...)], audience=...)},
                            limits=[RateRule("*", Limit(100, 60)), RateRule("createTransfer", ...)],
                            audit=AuditLog(SqliteStore("audit.db"), "spool"))

Per HTTP request:

1. hardening: ambiguous framing, method/URL-override headers and non-canonical paths
   are refused (400); the app then sees the canonical path in ``path``/``raw_path``;
2. routing with the core router (a path the spec lacks is 404, a method it lacks 405
   with ``Allow``; entries of ``passthrough`` skip routing): the refusal waits until the
   policies that run before routing (``order`` < 28: IP lists, CORS preflight, per-IP
   limits) have had their say;
3. the policies (:mod:`apiward.gateway.chain`) in order: authentication, authorization,
   rate limits, validation ... The first refusal answers;
4. client copies of the identity headers are removed and the gateway's own set;
5. the app; policies may rewrite its response (filtering, security headers, CORS).

One :class:`~apiward.gateway.auditlog.AuditRecord` per request, denials included, goes
to the audit log and to each observer (metrics, alerts, access log). The audit log's
writer is started on the first request, inside the serving event loop; close it with
``await audit.aclose()`` at shutdown. Lifespan passes through; WebSocket is refused
until the gateway checks it.
"""

from __future__ import annotations

import itertools
import logging
import os
import re
import time
from collections.abc import Awaitable, Callable, Iterable, Mapping, MutableMapping, Sequence
from time import perf_counter_ns
from typing import Any
from urllib.parse import quote, unquote

from apiward.core import Document, Operation, Router
from apiward.core.router import server_base_paths
from apiward.gateway import policies as builtin
from apiward.gateway.auditlog import AuditLog, AuditRecord
from apiward.gateway.auditlog_record import new_record
from apiward.gateway.auth_common import Authenticator, Principal
from apiward.gateway.canonical import DEFAULT_POLICY, AmbiguousRequest, PathPolicy, canonical_path
from apiward.gateway.chain import ApiSetup, Exchange, Headers, Policy, ordered
from apiward.gateway.headers import (
    IPNetwork,
    client_ip,
    hop_by_hop,
    screen,
    strip_identity_headers,
)
from apiward.gateway.policy import Refusal, denial_response, passthrough_matcher
from apiward.gateway.ratelimit import Limit, Limiter
from apiward.gateway.response_filter import MaskPolicy
from apiward.gateway.validate import Limits, is_json_media

__all__ = ["ROUTING_ORDER", "GatewayMiddleware", "Observer"]

Message = MutableMapping[str, Any]
Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]
Observer = Callable[[AuditRecord], None]

ROUTING_ORDER = 28
_MAX_IDENTITIES = 4096  # principals whose identity header values are kept
_UNSAFE = re.compile(rb"[^\x20-\x7e]")
_log = logging.getLogger("apiward.gateway")


class GatewayMiddleware:
    """Enforce ``doc`` on every HTTP request to ``app``; see the module docstring.

    Either pass ``policies`` (a chain built elsewhere, e.g. from the config file) or let
    the keyword arguments build the standard chain: ``authenticators`` for the spec's
    security schemes (deny by default), ``limits``, ``validation`` and
    ``response_filter`` (on by default: the positive model), ``security_headers``.
    """

    def __init__(
        self,
        app: ASGIApp,
        doc: Document,
        *,
        policies: Sequence[Policy] | None = None,
        authenticators: Mapping[str, Authenticator] | None = None,
        limits: Iterable[builtin.RateRule | tuple[str, Limit]] = (),
        limiter: Limiter | None = None,
        validation: Limits | bool = True,
        response_filter: MaskPolicy | bool = True,
        security_headers: bool = True,
        allow_undeclared_security: bool = False,
        audit: AuditLog | None = None,
        observers: Sequence[Observer] = (),
        api: str = "api",
        identity_headers: tuple[str, str] = ("x-apiward-user", "x-apiward-scopes"),
        trusted_proxies: Sequence[IPNetwork] = (),
        forwarded_header: str = "x-forwarded-for",
        passthrough: Iterable[str] = (),
        path_policy: PathPolicy = DEFAULT_POLICY,
        base_paths: Iterable[str] | None = None,
    ) -> None:
        self.app = app
        self.api = api
        if policies is None:
            setup = ApiSetup(api, doc)
            chain: list[Policy] = [
                builtin.Authentication(
                    setup, authenticators or {}, allow_undeclared_security=allow_undeclared_security
                )
            ]
            rules = [r if isinstance(r, builtin.RateRule) else builtin.RateRule(*r) for r in limits]
            chain += builtin.split_rules(setup, rules, limiter)
            if validation:
                limits_ = validation if isinstance(validation, Limits) else None
                chain.append(builtin.Validation(setup, limits_))
            if response_filter:
                mask = response_filter if isinstance(response_filter, MaskPolicy) else None
                chain.append(builtin.ResponseFiltering(setup, mask))
            if security_headers:
                chain.append(builtin.SecurityHeaders())
            policies = chain
        chain = ordered(policies)
        self.policies = tuple(chain)
        self._before_routing = tuple(
            p for p in chain if p.order < ROUTING_ORDER and p.overrides("on_request")
        )
        self._after_routing = tuple(
            p for p in chain if p.order >= ROUTING_ORDER and p.overrides("on_request")
        )
        self._on_response = tuple(p for p in chain if p.overrides("on_response"))
        self._on_body = tuple(p for p in chain if p.overrides("on_body"))
        if base_paths is None:
            servers = list(doc.servers) + [s for op in doc.operations for s in op.servers]
            base_paths = server_base_paths(servers) if servers else None
        self._router = Router(doc.operations, base_paths=base_paths)
        self._json_only = frozenset(op.key for op in doc.operations if _answers_json_only(op))
        self.operations = tuple(doc.operations)
        self._audit = audit
        self._audit_started = audit is None
        self._observers = tuple(observers)
        self._user_header, self._scopes_header = (h.lower().encode() for h in identity_headers)
        self._identity_names = frozenset({self._user_header, self._scopes_header})
        self._trusted = tuple(trusted_proxies)
        self._forwarded = forwarded_header
        entries = tuple(passthrough)
        self._passthrough = passthrough_matcher(entries) if entries else None
        self._path_policy = path_policy
        # the smallest body buffer the body policies allow, when all of them want the body
        self._body_limit = min((_max_body(p) for p in self._on_body), default=0)
        # principal -> its identity header values; tokens in the verified-token cache hand
        # out the same Principal object per request, so this is a dict lookup, not a sort
        self._identity_values: dict[int, tuple[Principal, bytes, bytes]] = {}
        # unique per process and cheap per request (no uuid4 on the hot path)
        self._ids = itertools.count(1)
        self._id_prefix = f"{os.getpid():x}-{time.time_ns() // 1_000_000:x}-"

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return await self._not_http(scope, receive, send)
        # an HTTP request, in this frame: one coroutine less per request
        started = perf_counter_ns()
        if not self._audit_started and self._audit is not None:
            # servers run without lifespan too: the writer must live in the serving loop
            await self._audit.start()
            self._audit_started = True
        peer = scope.get("client")
        headers: Headers = list(scope.get("headers") or ())
        ex = Exchange(
            scope,
            headers,
            scope["method"],
            scope.get("path", ""),
            client_ip(peer[0] if peer else "", headers, self._trusted, header=self._forwarded),
            receive,
            self.api,
        )
        try:
            await self._handle(ex, send)
        except BaseException:
            if not ex.status:
                # nothing was answered: the server sends its 500; on record it is a refusal
                ex.status, ex.reason = 500, "app_error"
                ex.decision, ex.policy = "deny", ex.policy or "internal"
            raise
        finally:
            record = new_record(
                self._id_prefix + str(next(self._ids)),
                ex.client,
                ex.method,
                ex.path,
                "deny" if ex.decision == "deny" else "allow",
                ex.status,
                ex.identity,
                ex.operation,
                ex.policy,
                (perf_counter_ns() - started) // 1000,
                ex.request_bytes,
                ex.response_bytes,
                ex.reason,
            )
            for observe in self._observers:
                try:
                    observe(record)
                except Exception:  # monitoring must never change the answer
                    _log.exception("gateway observer %r failed", observe)
            if self._audit is not None:
                self._audit.log(record)

    async def _not_http(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "websocket":
            # not checked yet, so not let through: closing before accept answers 403
            await send({"type": "websocket.close", "code": 1008})
        else:
            await self.app(scope, receive, send)

    async def _handle(self, ex: Exchange, send: Send) -> None:
        scope = ex.scope
        try:
            screen(ex.headers, scope.get("query_string", b""), scope.get("http_version") == "1.1")
            raw = scope.get("raw_path") or scope["path"].encode("utf-8")
            if b"?" in raw:
                raw = raw.partition(b"?")[0]
            path = canonical_path(raw, self._path_policy)
        except AmbiguousRequest as exc:
            return await self._deny(send, ex, Refusal(400, "hardening", exc.code))
        ex.path = path

        route_refusal: Refusal | None = None
        if self._passthrough is None or not self._passthrough(ex.method, path):
            match = self._router.match(ex.method, path)
            if match is None:
                allowed = self._router.allowed_methods(path)
                ex.allowed_methods = frozenset(allowed)
                if not allowed:
                    route_refusal = Refusal(404, "routing", "unknown_path")
                else:
                    allow = ", ".join(sorted(allowed)).encode()
                    route_refusal = Refusal(
                        405, "routing", "method_not_allowed", ((b"allow", allow),)
                    )
            else:
                ex.match = match
                ex.operation = match.operation.key
                if ex.method == "OPTIONS":  # a CORS preflight needs the path's methods
                    ex.allowed_methods = frozenset(self._router.allowed_methods(path))

        for p in self._before_routing:
            refusal = await p.on_request(ex)
            if refusal is not None:
                return await self._deny(send, ex, refusal)
        if route_refusal is not None:
            return await self._deny(send, ex, route_refusal)
        for p in self._after_routing:
            refusal = await p.on_request(ex)
            if refusal is not None:
                return await self._deny(send, ex, refusal)

        headers = ex.headers
        for name, _ in headers:
            if name.lower() == b"connection":
                # the hop's own headers go here, before the gateway adds its own: a client's
                # `Connection: x-apiward-user` must not make a later hop drop the identity
                headers = hop_by_hop(headers)
                break
        headers = strip_identity_headers(headers, self._identity_names)
        principal = ex.principal
        if principal.subject:
            known = self._identity_values.get(id(principal))
            # the entry holds the principal itself, so its id cannot be reused while cached
            if known is None or known[0] is not principal:
                known = self._identity(principal)
            headers.append((self._user_header, known[1]))
            headers.append((self._scopes_header, known[2]))
        forwarded = dict(scope)
        forwarded["headers"] = headers
        forwarded["raw_path"] = path.encode("ascii")
        forwarded["path"] = unquote(path) if "%" in path else path
        extensions = dict(scope.get("extensions") or {})
        info: dict[str, Any] = {"client_ip": ex.client, "api": self.api}
        if ex.operation is not None and ex.operation in self._json_only:
            info["buffer_response"] = True  # nothing to stream: see UpstreamProxy
        extensions["apiward"] = info
        forwarded["extensions"] = extensions
        reply = _Reply(self, ex, send)
        await self.app(forwarded, reply.receive, reply.send)

    def _identity(self, principal: Principal) -> tuple[Principal, bytes, bytes]:
        """The identity header values of ``principal``, remembered for its next request."""
        user = _header_value(principal.subject)
        scopes = _header_value(" ".join(sorted(principal.grants)))
        if len(self._identity_values) >= _MAX_IDENTITIES:
            self._identity_values.clear()
        known = self._identity_values[id(principal)] = (principal, user, scopes)
        return known

    async def _deny(self, send: Send, ex: Exchange, refusal: Refusal) -> None:
        # a policy may also answer in the gateway's name without refusing (CORS preflight)
        ex.decision = "deny" if refusal.status >= 400 else "allow"
        ex.policy, ex.reason, ex.status = refusal.policy, refusal.reason, refusal.status
        if refusal.status < 200 or refusal.status in (204, 304):
            headers, body = list(refusal.headers), b""
        else:
            headers, body = denial_response(
                refusal.status, refusal.reason, refusal.headers, refusal.detail
            )
        for p in self._on_response:
            headers = p.on_response(ex, refusal.status, headers)
        ex.response_bytes = len(body)
        await send({"type": "http.response.start", "status": refusal.status, "headers": headers})
        await send({"type": "http.response.body", "body": body})


class _Reply:
    """The app's side of one request: it counts the bytes both ways for the audit record,
    holds a response body back while the policies that asked for it need it whole, and
    lets the policies rewrite the response headers.

    One object per request, its ``receive`` and ``send`` handed to the app (cheaper than
    a closure per step).
    """

    __slots__ = (
        "_chunks",
        "_downstream",
        "_ex",
        "_extra",
        "_filters",
        "_held",
        "_limit",
        "_mw",
        "_size",
        "_upstream",
    )

    def __init__(self, mw: GatewayMiddleware, ex: Exchange, send: Send) -> None:
        self._mw = mw
        self._ex = ex
        self._downstream = send
        self._upstream = ex.receive
        self._extra = ex.response_headers
        self._held: Message | None = None  # the response start, while the body is buffered
        self._filters: Sequence[Policy] = ()
        self._chunks: list[bytes] = []
        self._size = 0
        self._limit = 0

    async def receive(self) -> Message:
        message = await self._upstream()
        if message["type"] == "http.request":
            self._ex.request_bytes += len(message.get("body", b""))
        return message

    async def send(self, message: Message) -> None:
        kind = message["type"]
        ex = self._ex
        if kind == "http.response.start":
            ex.status = status = message["status"]
            headers = list(message.get("headers") or ())
            on_body = self._mw._on_body
            if on_body:
                self._filters = [p for p in on_body if p.wants_body(ex, status, headers)]
            if self._filters:
                self._held = message
                filters = self._filters
                self._limit = (
                    self._mw._body_limit
                    if len(filters) == len(on_body)
                    else min(_max_body(p) for p in filters)
                )
                return
            await self._downstream(self._start(message, headers))
            return
        if kind == "http.response.body":
            if self._held is not None:
                chunk = message.get("body", b"")
                self._size += len(chunk)
                if self._size <= self._limit:
                    self._chunks.append(chunk)
                if message.get("more_body", False):
                    return
                outcome = self._finish(self._held)
                if isinstance(outcome, Refusal):
                    return await self._mw._deny(self._downstream, ex, outcome)
                start, body = outcome
                await self._downstream(start)
                ex.response_bytes = len(body)
                await self._downstream({"type": "http.response.body", "body": body})
                return
            ex.response_bytes += len(message.get("body", b""))
        await self._downstream(message)

    def _start(self, message: Message, headers: Headers) -> Message:
        """The response start to send: the policies' headers added, ``headers`` as the base."""
        ex = self._ex
        status = message["status"]
        extra = self._extra
        if extra:
            present = {name.lower() for name, _ in headers}
            headers = headers + [(n, v) for n, v in extra if n not in present]
        for p in self._mw._on_response:
            headers = p.on_response(ex, status, headers)
        message = dict(message)
        message["headers"] = headers
        return message

    def _finish(self, start_message: Message) -> tuple[Message, bytes] | Refusal:
        """The held response after the body policies: its start and body, or a refusal."""
        ex = self._ex
        status = start_message["status"]
        headers = list(start_message.get("headers") or ())
        outcome: tuple[Headers, bytes] | Refusal
        if self._size > self._limit:
            return Refusal(502, self._filters[0].name, "response.too_large")
        body = b"".join(self._chunks)
        outcome = headers, body
        for p in self._filters:
            outcome = p.on_body(ex, status, outcome[0], outcome[1])
            if isinstance(outcome, Refusal):
                return outcome
        headers, body = outcome
        headers = [(n, v) for n, v in headers if n.lower() != b"content-length"]
        headers.append((b"content-length", str(len(body)).encode()))
        return self._start(start_message, headers), body


def _max_body(policy: Policy) -> int:
    limit: int = getattr(policy, "max_body_bytes", 8 << 20)
    return limit


def _answers_json_only(op: Operation) -> bool:
    """Whether every response ``op`` declares is JSON (so none is a stream worth relaying
    as it arrives: SSE, NDJSON, a long download)."""
    media = [m for r in op.responses.values() for m in r.content]
    return bool(media) and all(is_json_media(m) for m in media)


def _header_value(text: str) -> bytes:
    """``text`` as a header value: printable ASCII kept, the rest percent-encoded (no CR/LF)."""
    raw = text.encode("utf-8", "surrogatepass")
    if _UNSAFE.search(raw) is None:
        return raw
    return quote(raw, safe="!#$&'()*+,-./:;<=>?@[]^_`{|}~ ").encode("ascii")
