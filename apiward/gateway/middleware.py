"""The gateway as pure ASGI middleware: the spec's positive security model in front of an app.

Wrap any ASGI app (Starlette, FastAPI, or the reverse proxy's upstream client)::

    doc = load("openapi.yaml")
    app = GatewayMiddleware(app, doc,
                            authenticators={"bearerAuth": JwtVerifier([JwtKey(...)], audience=...)},
                            limits=[("*", Limit(100, 60)), ("createTransfer", Limit(5, 60))],
                            audit=AuditLog(SqliteStore("audit.db"), "spool"))

Per HTTP request, in this order (the first refusal answers, and is audited):

1. hardening: ambiguous framing, method/URL-override headers and non-canonical paths
   are refused (400); the app then sees the canonical path in ``path``/``raw_path``;
2. routing with the core router: a path the spec lacks is 404, a method it lacks 405
   with ``Allow`` (entries of ``passthrough`` skip routing and authentication);
3. authentication per the operation's effective security (401/403/503); client copies of
   the identity headers are always removed and the gateway's own set from the principal;
4. rate limits per principal (or client IP when anonymous) and operation: 429 with
   ``Retry-After``; 503 when the limiter cannot answer (fail closed);
5. the request hook (``validator``; body validation lives in ``apiward.gateway.validate``);
6. the app; its response gains the security headers it did not set and ``RateLimit-*``.

One :class:`~apiward.gateway.auditlog.AuditRecord` per request, denials included. The
audit log's writer is started on the first request, inside the serving event loop
(``AuditLog.start`` is idempotent); close it with ``await audit.aclose()`` at shutdown.
Lifespan passes through; WebSocket is refused until the gateway checks it.
"""

from __future__ import annotations

import itertools
import os
import time
from collections.abc import Awaitable, Callable, Iterable, Mapping, MutableMapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, unquote

from apiward.core import Document, Router
from apiward.core.router import server_base_paths
from apiward.gateway.auditlog import AuditLog, AuditRecord
from apiward.gateway.auth_common import (
    ANONYMOUS,
    Authenticator,
    AuthRequest,
    Denial,
    Principal,
    evaluate_requirements,
)
from apiward.gateway.canonical import DEFAULT_POLICY, AmbiguousRequest, PathPolicy, canonical_path
from apiward.gateway.headers import (
    IPNetwork,
    check_framing,
    check_method_override,
    check_url_override,
    client_ip,
    strip_identity_headers,
)
from apiward.gateway.policy import (
    OperationPolicy,
    Refusal,
    RequestHook,
    compile_policies,
    denial_response,
    merge_missing,
    passthrough_matcher,
    security_headers,
)
from apiward.gateway.ratelimit import Limit, Limiter, MemoryLimiter, Verdict, limit_key

__all__ = ["GatewayMiddleware"]

Message = MutableMapping[str, Any]
Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

_PRINTABLE = frozenset(range(0x21, 0x7F))


@dataclass(slots=True)
class _Trace:
    """What the audit record needs, filled in as the request goes through."""

    client: str
    method: str
    path: str
    operation: str | None = None
    identity: str | None = None
    decision: str = "allow"
    policy: str | None = None
    reason: str | None = None
    status: int = 0
    request_bytes: int = 0
    response_bytes: int = 0


class GatewayMiddleware:
    """Enforce ``doc`` on every HTTP request to ``app``; see the module docstring."""

    def __init__(
        self,
        app: ASGIApp,
        doc: Document,
        *,
        authenticators: Mapping[str, Authenticator],
        limits: Iterable[tuple[str, Limit]] = (),
        limiter: Limiter | None = None,
        audit: AuditLog | None = None,
        identity_headers: tuple[str, str] = ("x-apiward-user", "x-apiward-scopes"),
        trusted_proxies: Sequence[IPNetwork] = (),
        security_headers: bool = True,
        passthrough: Iterable[str] = (),
        path_policy: PathPolicy = DEFAULT_POLICY,
        base_paths: Iterable[str] | None = None,
        allow_undeclared_security: bool = False,
        validator: RequestHook | None = None,
    ) -> None:
        self.app = app
        self._policies: dict[str, OperationPolicy] = compile_policies(
            doc, limits, allow_undeclared_security=allow_undeclared_security
        )
        if base_paths is None:
            servers = list(doc.servers) + [s for op in doc.operations for s in op.servers]
            base_paths = server_base_paths(servers) if servers else None
        self._router = Router(doc.operations, base_paths=base_paths)
        self._authenticators = dict(authenticators)
        self._limiter: Limiter = limiter if limiter is not None else MemoryLimiter()
        self._audit = audit
        self._audit_started = audit is None
        self._user_header, self._scopes_header = (h.lower().encode() for h in identity_headers)
        self._identity_names = frozenset({self._user_header, self._scopes_header})
        self._trusted = tuple(trusted_proxies)
        self._security_headers = security_headers
        self._passthrough = passthrough_matcher(passthrough)
        self._path_policy = path_policy
        self._validator = validator
        # unique per process and cheap per request (no uuid4 on the hot path)
        self._ids = itertools.count(1)
        self._id_prefix = f"{os.getpid():x}-{time.time_ns() // 1_000_000:x}-"

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        kind = scope["type"]
        if kind == "http":
            await self._http(scope, receive, send)
        elif kind == "websocket":
            # not checked yet, so not let through: closing before accept answers 403
            await send({"type": "websocket.close", "code": 1008})
        else:
            await self.app(scope, receive, send)

    async def _http(self, scope: Scope, receive: Receive, send: Send) -> None:
        started = time.perf_counter_ns()
        if not self._audit_started and self._audit is not None:
            # servers run without lifespan too: the writer must live in the serving loop
            await self._audit.start()
            self._audit_started = True
        peer = scope.get("client")
        headers: list[tuple[bytes, bytes]] = list(scope.get("headers") or ())
        trace = _Trace(
            client_ip(peer[0] if peer else "", headers, self._trusted),
            scope["method"],
            scope.get("path", ""),
        )
        try:
            await self._handle(scope, receive, send, headers, trace)
        except BaseException:
            if not trace.status:
                trace.status, trace.reason = 500, "app_error"
            raise
        finally:
            if self._audit is not None:
                self._audit.log(
                    AuditRecord(
                        request_id=self._id_prefix + str(next(self._ids)),
                        client_ip=trace.client,
                        method=trace.method,
                        path=trace.path,
                        decision="deny" if trace.decision == "deny" else "allow",
                        status=trace.status,
                        identity=trace.identity,
                        operation=trace.operation,
                        policy=trace.policy,
                        latency_us=(time.perf_counter_ns() - started) // 1000,
                        request_bytes=trace.request_bytes,
                        response_bytes=trace.response_bytes,
                        reason=trace.reason,
                    )
                )

    async def _handle(
        self,
        scope: Scope,
        receive: Receive,
        send: Send,
        headers: list[tuple[bytes, bytes]],
        trace: _Trace,
    ) -> None:
        method: str = scope["method"]
        try:
            check_framing(headers)
            check_method_override(headers, scope.get("query_string", b""))
            check_url_override(headers)
            raw = scope.get("raw_path") or scope["path"].encode("utf-8")
            path = canonical_path(raw.partition(b"?")[0], self._path_policy)
        except AmbiguousRequest as exc:
            return await self._deny(send, trace, Refusal(400, "hardening", exc.code))
        trace.path = path

        principal: Principal = ANONYMOUS
        policy: OperationPolicy | None = None
        match = None
        if not self._passthrough(method, path):
            match = self._router.match(method, path)
            if match is None:
                allowed = self._router.allowed_methods(path)
                if not allowed:
                    return await self._deny(send, trace, Refusal(404, "routing", "unknown_path"))
                allow = ", ".join(sorted(allowed)).encode()
                refusal = Refusal(405, "routing", "method_not_allowed", ((b"allow", allow),))
                return await self._deny(send, trace, refusal)
            policy = self._policies[match.operation.key]
            trace.operation = match.operation.key
            outcome = await evaluate_requirements(
                match.operation.effective_security,
                self._authenticators,
                AuthRequest.from_scope(scope),
                allow_unsecured=policy.allow_unsecured,
            )
            if isinstance(outcome, Denial):
                return await self._deny(send, trace, _auth_refusal(outcome))
            principal = outcome
            trace.identity = principal.subject or None

        limit_headers: list[tuple[bytes, bytes]] = []
        if policy is not None and policy.limits:
            limited, limit_headers = await self._rate_limit(policy, principal, trace.client)
            if limited is not None:
                return await self._deny(send, trace, limited)

        headers = strip_identity_headers(headers, self._identity_names)
        if principal.subject:
            headers.append((self._user_header, _header_value(principal.subject)))
            headers.append((self._scopes_header, _header_value(" ".join(sorted(principal.grants)))))
        scope = dict(scope)
        scope["headers"] = headers
        scope["raw_path"] = path.encode("ascii")
        scope["path"] = unquote(path)

        if self._validator is not None and match is not None:
            checked = await self._validator(match, scope, receive)
            if isinstance(checked, Refusal):
                return await self._deny(send, trace, checked)
            receive = checked

        await self.app(
            scope,
            self._counting(receive, trace),
            self._wrap_send(send, trace, principal is not ANONYMOUS, limit_headers),
        )

    async def _rate_limit(
        self, policy: OperationPolicy, principal: Principal, ip: str
    ) -> tuple[Refusal | None, list[tuple[bytes, bytes]]]:
        who = "u:" + principal.subject if principal.subject else "ip:" + ip
        tightest: Verdict | None = None
        for selector, limit in policy.limits:
            key = limit_key("gw", selector, policy.operation.key, who)
            try:
                verdict = await self._limiter.hit(key, limit)
            except Exception:  # a limiter that cannot answer must not admit
                return Refusal(503, "ratelimit", "limiter_unavailable"), []
            if not verdict.allowed:
                status = 503 if verdict.degraded else 429
                reason = "limiter_unavailable" if verdict.degraded else "rate_limited"
                return Refusal(status, "ratelimit", reason, tuple(verdict.asgi_headers())), []
            if tightest is None or verdict.remaining < tightest.remaining:
                tightest = verdict
        return None, tightest.asgi_headers() if tightest is not None else []

    async def _deny(self, send: Send, trace: _Trace, refusal: Refusal) -> None:
        trace.decision, trace.policy, trace.reason = "deny", refusal.policy, refusal.reason
        trace.status = refusal.status
        headers, body = denial_response(refusal.status, refusal.reason, refusal.headers)
        if self._security_headers:
            headers = security_headers(headers, authenticated=False)
        trace.response_bytes = len(body)
        await send({"type": "http.response.start", "status": refusal.status, "headers": headers})
        await send({"type": "http.response.body", "body": body})

    @staticmethod
    def _counting(receive: Receive, trace: _Trace) -> Receive:
        async def counted() -> Message:
            message = await receive()
            if message["type"] == "http.request":
                trace.request_bytes += len(message.get("body", b""))
            return message

        return counted

    def _wrap_send(
        self, send: Send, trace: _Trace, authenticated: bool, extra: list[tuple[bytes, bytes]]
    ) -> Send:
        add_security = self._security_headers

        async def sending(message: Message) -> None:
            kind = message["type"]
            if kind == "http.response.start":
                trace.status = message["status"]
                headers = list(message.get("headers") or ())
                if extra:
                    headers = merge_missing(headers, extra)
                if add_security:
                    headers = security_headers(headers, authenticated=authenticated)
                message = dict(message)
                message["headers"] = headers
            elif kind == "http.response.body":
                trace.response_bytes += len(message.get("body", b""))
            await send(message)

        return sending


def _auth_refusal(denial: Denial) -> Refusal:
    status = denial.status if denial.status in (401, 403, 503) else 401
    extra: tuple[tuple[bytes, bytes], ...] = ()
    if status == 401:
        # RFC 9110 §11.6.1: a 401 names a challenge; no realm detail that helps a prober
        extra = ((b"www-authenticate", b'Bearer realm="api"'),)
    return Refusal(status, "auth", denial.reason, extra)


def _header_value(text: str) -> bytes:
    """``text`` as a header value: printable ASCII kept, the rest percent-encoded (no CR/LF)."""
    raw = text.encode("utf-8", "surrogatepass")
    if all(b in _PRINTABLE or b == 0x20 for b in raw):
        return raw
    return quote(raw, safe="!#$&'()*+,-./:;<=>?@[]^_`{|}~ ").encode("ascii")
