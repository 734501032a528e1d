"""The reverse proxy's upstream half: an ASGI app that forwards each request to one API's servers.

The gateway's policies run first (they wrap this app); this module only forwards::

    proxy = UpstreamProxy(UpstreamConfig("bank", ["http://10.0.0.5:8080", "http://10.0.0.6:8080"],
                                         health=HealthCheck("/health")))
    app = GatewayMiddleware(proxy, doc, ...)
    await proxy.start()   # health checks (lifespan startup or the first request do it too)
    proxy.health()        # {"http://10.0.0.5:8080": True, ...}: metrics, the admin API
    proxy.counters()      # {"http://10.0.0.5:8080": {"requests": 9, "failures": 1, ...}, ...}
    await proxy.aclose()

Serve it with uvicorn's ``proxy_headers=False`` (the gateway decides the client address),
``server_header=False`` and ``date_header=False`` (the upstream's pass through).

**What the upstream receives.** The method; the scope's ``raw_path`` (canonical already)
and query string, after the target's URL (which may carry a path prefix); the client's
headers minus hop-by-hop ones (:func:`~apiward.gateway.headers.hop_by_hop`), minus
``Host``, ``Expect`` and any client-sent ``Forwarded``/``X-Forwarded-*``/``X-Real-IP``
(also spelt with ``_``); plus ``X-Forwarded-For`` (``scope["extensions"]["apiward"]
["client_ip"]``, the address the gateway settled on, else the peer), ``X-Forwarded-Proto``
and ``X-Forwarded-Host`` (the client's ``Host``, only when it names one of
``forwarded_hosts``). ``Host`` is the target's own, as with
nginx's ``proxy_pass``: virtual hosts and TLS names upstream are the operator's to choose,
not the client's. Bodies up to 64 KiB are read whole, so they can be retried; larger ones
are streamed to the upstream as they arrive.

**What the client receives.** The upstream's status and headers (minus hop-by-hop ones),
and its body chunk by chunk as it arrives (never decompressed, never held whole; for an
operation that answers JSON only, the first 64 KiB are read before the headers go on). Or a
refusal rendered by :func:`~apiward.gateway.policy.denial_response`, which names a code
and never an exception:

- 502 ``no_healthy_upstream``: every target is out (health checks, refused connections);
- 502 ``upstream_unreachable``: the connection could not be made (refused, TLS failed);
- 502 ``upstream_error``: the upstream closed early or answered something that is not HTTP;
- 504 ``upstream_timeout``: connect, read or total timeout, or no connection slot in time;
- 502/503/504 ``upstream_unavailable``: the upstream's own, retried, with no target left;
- 400 ``unforwardable_request``: a header the upstream client refuses to send.

An upstream that breaks off mid-body has the client's connection cut (the ASGI server
closes it), never a short body passed off as whole.

**Retries**, at most ``retries`` more attempts, on another target when one is healthy:
idempotent methods (GET, HEAD, OPTIONS, PUT, DELETE, TRACE) after a connection error, a
timeout or a 502/503/504; other methods only when no connection was made (nothing sent).
A streamed request body cannot be replayed: once the upstream has read from it, no retry.

**Reported** into ``scope["extensions"]["apiward"]`` (created when missing) before the
response starts: ``upstream`` (the target's URL as configured; None when none was tried),
``upstream_latency_us`` (first attempt to response headers, retries included) and
``upstream_attempts``.

**Limits of the upstream client** (pyreqwest 0.15). Header values travel as UTF-8 text: a
request header value that is not UTF-8 is dropped, and so is a response header value that
is not visible ASCII. A request without ``Accept`` or ``User-Agent`` reaches the upstream
with reqwest's (``*/*``, ``python-pyreqwest/...``). In the query string, what a URL parser
escapes (``'`` ``"`` ``<`` ``>``, spaces, non-ASCII) arrives percent-encoded, which
decodes to the same value.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Awaitable, Callable, MutableMapping, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote_from_bytes, urlsplit

from pyreqwest.client import Client, ClientBuilder
from pyreqwest.exceptions import PoolTimeoutError, PyreqwestError, RequestTimeoutError
from pyreqwest.http import HeaderMap
from pyreqwest.response import Response

from apiward.errors import ConfigError
from apiward.gateway.headers import HOP_BY_HOP, Headers, hop_by_hop, host_name
from apiward.gateway.policy import denial_response
from apiward.gateway.upstream_health import HealthCheck, Target, run_checks

__all__ = ["HealthCheck", "Target", "UpstreamConfig", "UpstreamProxy", "UpstreamTLS"]

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

_IDEMPOTENT = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE", "TRACE"})
_RETRY_STATUS = frozenset({502, 503, 504})
_NO_BODY = frozenset({204, 304})
# Not forwarded: hop-by-hop ones; Host (the target's); Expect (our server answers it, the
# upstream client would not wait for a 100); the client's claims about forwarding
_DROP = HOP_BY_HOP | {b"host", b"expect", b"forwarded", b"x-real-ip"}
_FORWARDED_PREFIX = b"x-forwarded-"
_USUAL_CONNECTION = frozenset({b"keep-alive", b"close"})
_CONNECTION_TOKENS = HOP_BY_HOP | _USUAL_CONNECTION | {b""}
_BUFFER_LIMIT = 64 * 1024  # bodies up to this are read whole and can be retried
# pyreqwest hands over a streamed response once this much of its body (or all of it) has
# arrived. 0, at the headers, is right for a slow stream (SSE, long polls), whose headers
# and first events must not wait; an operation that answers JSON only (the gateway says
# so in scope["extensions"]["apiward"]["buffer_response"]) reads ahead, which saves one
# hand-over between pyreqwest's thread and the loop per small response (~10% of a
# request's CPU, measured in-process).
_READ_AHEAD_STREAM = 0
_READ_AHEAD_JSON = 64 * 1024
# hyper's Display of a connect-phase error: the one sign nothing was sent. If a later
# version words it otherwise, such failures count as "sent": no POST retry, no mark-down.
_CONNECT_CAUSE = "client error (Connect)"
# what may stay literal in a path or query we re-escape; '#' would start a fragment
_SAFE = "".join(chr(c) for c in range(0x21, 0x7F) if chr(c) != "#")


@dataclass(frozen=True, slots=True)
class UpstreamTLS:
    """TLS towards ``https://`` targets: extra trusted CA, client certificate (mTLS)."""

    verify: bool = True
    ca_file: str | None = None  # PEM, trusted in addition to the system's roots
    cert_file: str | None = None  # PEM client certificate chain, with key_file
    key_file: str | None = None  # PEM private key of cert_file

    def __post_init__(self) -> None:
        if (self.cert_file is None) != (self.key_file is None):
            raise ConfigError("cert_file and key_file go together", key="tls")


@dataclass(frozen=True, slots=True)
class UpstreamConfig:
    """One API's upstream servers and how to talk to them. Times are in seconds.

    ``timeout`` bounds a whole exchange, body included (None: long downloads allowed);
    ``read_timeout`` bounds each wait for data, the response headers included.
    ``max_connections`` is per target: requests in flight; more wait up to
    ``connect_timeout`` for a slot. ``forwarded_hosts``: the public host names whose
    ``Host`` the upstream may see in ``X-Forwarded-Host``; any other (a client can send
    any) is not passed on, since apps that build links from it (password reset mails)
    would build them to the attacker's host.
    """

    name: str
    targets: Sequence[str]
    connect_timeout: float = 5.0
    read_timeout: float = 60.0
    timeout: float | None = None
    max_connections: int = 512
    retries: int = 1
    health: HealthCheck = field(default_factory=HealthCheck)
    tls: UpstreamTLS = field(default_factory=UpstreamTLS)
    forwarded_hosts: frozenset[str] = frozenset()

    def __post_init__(self) -> None:
        if isinstance(self.targets, str):
            raise ConfigError("must be a list of URLs", key="targets")
        object.__setattr__(self, "targets", tuple(self.targets))
        if not self.targets:
            raise ConfigError(f"upstream {self.name!r} has no targets", key="targets")
        if len(set(self.targets)) != len(self.targets):
            raise ConfigError(f"upstream {self.name!r} lists a target twice", key="targets")
        for target in self.targets:
            _base_url(target)
        for key in ("connect_timeout", "read_timeout", "timeout"):
            value = getattr(self, key)
            if value is not None and not value > 0:
                raise ConfigError("must be a positive number of seconds", key=key)
        if self.max_connections < 1:
            raise ConfigError("must be at least 1", key="max_connections")
        if self.retries < 0:
            raise ConfigError("must not be negative", key="retries")


class UpstreamProxy:
    """ASGI app forwarding ``http`` requests to the healthy targets of one upstream, in turn.

    Also answers ``lifespan`` (startup starts the health checks, shutdown closes) and
    closes ``websocket`` connections, which it does not forward.
    """

    def __init__(self, config: UpstreamConfig) -> None:
        self.config = config
        self.targets = tuple(Target(url, _base_url(url), _client(config)) for url in config.targets)
        self._attempts = config.retries + 1
        # nginx's rule: with a single target there is nowhere else to go, so no time-out
        self._fail_timeout = config.health.fail_timeout if len(self.targets) > 1 else 0.0
        self._next = 0
        self._started = False
        self._checks: asyncio.Task[None] | None = None

    async def start(self) -> None:
        """Start the active health checks in the running loop (when configured); idempotent."""
        if self._started:
            return
        self._started = True
        if self.config.health.path is not None:
            self._checks = asyncio.create_task(run_checks(self.targets, self.config.health))

    async def aclose(self) -> None:
        """Stop the health checks and close the connections. Not reusable afterwards."""
        self._started = True  # a request arriving now must not restart the checks
        if self._checks is not None:
            self._checks.cancel()
            await asyncio.gather(self._checks, return_exceptions=True)
            self._checks = None
        for target in self.targets:
            await target.client.close()

    def health(self) -> dict[str, bool]:
        """Per target URL: whether it takes traffic now."""
        now = time.monotonic()
        return {t.url: t.available(now) for t in self.targets}

    def counters(self) -> dict[str, dict[str, int]]:
        """Per target URL: ``requests``, ``failures``, ``retries`` (see :class:`Target`)."""
        return {t.url: t.counters() for t in self.targets}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return await self._not_http(scope, receive, send)
        if not self._started:
            await self.start()
        body = await _read_body(receive)
        if body is None:
            return  # the client left before its body arrived: nobody to answer
        stream = None
        if isinstance(body, _BodyStream):
            stream, body = body, b""
        info = _report_to(scope)
        method: str = scope["method"]
        tail = _path_and_query(scope)
        headers = _request_headers(scope, info, self.config.forwarded_hosts)
        idempotent = method in _IDEMPOTENT
        read_ahead = _READ_AHEAD_JSON if info.get("buffer_response") else _READ_AHEAD_STREAM
        tried: list[Target] = []
        status, reason = 502, "no_healthy_upstream"
        started = time.perf_counter_ns()
        for attempt in range(self._attempts):
            target = self._pick(tried)
            if target is None:
                break
            try:
                builder = (
                    target.client.request(method, target.base + tail)
                    .headers(headers)
                    .streamed_read_buffer_limit(read_ahead)
                )
            except ValueError:  # a header name or value the upstream client refuses to send
                status, reason = 400, "unforwardable_request"
                break
            if stream is not None:
                builder = builder.body_stream(stream)
            elif body:
                builder = builder.body_bytes(body)
            target.requests += 1
            if tried:
                target.retries += 1
            tried.append(target)
            try:
                async with builder.build_streamed() as response:
                    if response.status in _RETRY_STATUS:
                        target.failures += 1
                        if idempotent and attempt + 1 < self._attempts and not _spent(stream):
                            # should no target be left to retry on, this answer stands
                            status, reason = response.status, "upstream_unavailable"
                            continue
                    info["upstream"] = target.url
                    info["upstream_latency_us"] = (time.perf_counter_ns() - started) // 1000
                    info["upstream_attempts"] = attempt + 1
                    done = stream is None or stream.finished
                    if not await _relay(response, method, receive, send, done):
                        target.failures += 1
                    return
            except _ClientGone:
                return
            except PyreqwestError as exc:
                target.failures += 1
                status, reason, phase = _failure(exc)
                if phase == "connect" and self._fail_timeout:
                    target.connect_failed(time.monotonic(), self._fail_timeout)
                if (phase == "sent" and not idempotent) or _spent(stream):
                    break
        info["upstream"] = tried[-1].url if tried else None
        info["upstream_latency_us"] = (time.perf_counter_ns() - started) // 1000
        info["upstream_attempts"] = len(tried)
        out, payload = denial_response(status, reason)
        await send({"type": "http.response.start", "status": status, "headers": out})
        await send({"type": "http.response.body", "body": payload})

    def _pick(self, tried: list[Target]) -> Target | None:
        """The next available target in turn, preferring one not ``tried`` yet."""
        targets = self.targets
        count = len(targets)
        first = self._next
        self._next = (first + 1) % count
        now = time.monotonic()
        fallback = None
        for i in range(count):
            target = targets[(first + i) % count]
            if target.checked_up and now >= target.down_until:
                if target not in tried:
                    return target
                if fallback is None:
                    fallback = target
        return fallback

    async def _not_http(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "websocket":
            await send({"type": "websocket.close", "code": 1003})
            return
        if scope["type"] != "lifespan":
            return
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await self.start()
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await self.aclose()
                await send({"type": "lifespan.shutdown.complete"})
                return


class _ClientGone(Exception):
    """The client disconnected while its body was being streamed upstream."""


class _BodyStream:
    """A large request body: what was read so far, then the rest from ``receive``.

    Single use. ``started`` turns true when the upstream client starts reading it
    (pyreqwest does so only once connected), after which it cannot be replayed.
    """

    __slots__ = ("_head", "_receive", "finished", "started")

    def __init__(self, head: bytes, receive: Receive) -> None:
        self._head = head
        self._receive = receive
        self.started = False
        self.finished = False

    def __aiter__(self) -> AsyncIterator[bytes]:
        return self._chunks()

    async def _chunks(self) -> AsyncIterator[bytes]:
        self.started = True
        yield self._head
        while True:
            message = await self._receive()
            if message["type"] != "http.request":
                raise _ClientGone
            chunk: bytes = message.get("body", b"")
            if chunk:
                yield chunk
            if not message.get("more_body", False):
                self.finished = True
                return


def _spent(stream: _BodyStream | None) -> bool:
    return stream is not None and stream.started


async def _read_body(receive: Receive) -> bytes | _BodyStream | None:
    """The whole body when small, a :class:`_BodyStream` when large, None if the client left."""
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] != "http.request":
            return None
        chunk: bytes = message.get("body", b"")
        more = message.get("more_body", False)
        if not more and not chunks:
            return chunk  # the usual case: the body (often empty) in one message
        chunks.append(chunk)
        size += len(chunk)
        if not more:
            return b"".join(chunks)
        if size > _BUFFER_LIMIT:
            return _BodyStream(b"".join(chunks), receive)


async def _relay(
    response: Response, method: str, receive: Receive, send: Send, request_done: bool
) -> bool:
    """Stream the upstream's response to the client; False when the upstream broke off."""
    status = response.status
    headers, length = _response_headers(response)
    await send({"type": "http.response.start", "status": status, "headers": headers})
    if length == 0 or method == "HEAD" or status in _NO_BODY:
        # hyper knows there is no body: nothing to read, the connection is reusable
        await send({"type": "http.response.body", "body": b"", "more_body": False})
        return True
    reader = response.body_reader
    # Watches for the client leaving, so a long download stops pulling from the upstream
    # (uvicorn drops what is sent to a gone client silently). Started at the second
    # chunk, and only once the request body is read: receive() is ours alone then.
    left: asyncio.Future[Message] | None = None
    sent = 0
    try:
        while True:
            chunk = await reader.read_chunk()
            if chunk is None:
                break
            data = chunk.to_bytes()
            sent += len(data)
            if sent == length:
                # all declared bytes are in: finish now, one read and one send fewer
                await send({"type": "http.response.body", "body": data, "more_body": False})
                return True
            await send({"type": "http.response.body", "body": data, "more_body": True})
            if left is not None:
                if left.done():
                    return True  # the client has gone; not the upstream's failure
            elif request_done and sent > len(data):
                left = asyncio.ensure_future(receive())
    except PyreqwestError:
        # Returning without finishing makes the ASGI server close the connection: the
        # client sees a cut response, not a short body passed off as complete.
        return False
    finally:
        if left is not None and not left.cancel() and not left.cancelled():
            left.exception()  # done already: retrieve it, or asyncio would log it unread
    await send({"type": "http.response.body", "body": b"", "more_body": False})
    return True


def _readable_headers(headers: HeaderMap) -> list[tuple[bytes, bytes]]:
    """The response headers pyreqwest can show as text; the others are dropped."""
    out: list[tuple[bytes, bytes]] = []
    for key in dict.fromkeys(headers.keys()):
        try:
            values = headers.getall(key)
        except ValueError:
            continue
        out.extend((key.encode(), value.encode()) for value in values)
    return out


def _report_to(scope: Scope) -> dict[str, Any]:
    extensions = scope.get("extensions")
    if extensions is None:
        extensions = scope["extensions"] = {}
    info: dict[str, Any] | None = extensions.get("apiward")
    if info is None:
        info = extensions["apiward"] = {}
    return info


def _path_and_query(scope: Scope) -> str:
    raw: bytes = scope.get("raw_path") or scope["path"].encode()
    query: bytes = scope.get("query_string", b"")
    path = raw.decode() if raw.isascii() and b"#" not in raw else quote_from_bytes(raw, _SAFE)
    if not query:
        return path
    if query.isascii() and b"#" not in query:
        return f"{path}?{query.decode()}"
    return f"{path}?{quote_from_bytes(query, _SAFE)}"


def _request_headers(
    scope: Scope,
    info: dict[str, Any],
    forwarded_hosts: frozenset[str] = frozenset(),
    headers: Headers | None = None,
) -> list[tuple[str, str]]:
    """The client's headers to forward, as text, with our ``X-Forwarded-*`` added."""
    out: list[tuple[str, str]] = []
    host = ""
    for name, value in scope["headers"] if headers is None else headers:
        key = name.lower()
        if b"_" in key:
            key = key.replace(b"_", b"-")
        if key in _DROP or key.startswith(_FORWARDED_PREFIX):
            if key == b"host":
                with contextlib.suppress(UnicodeDecodeError):
                    host = value.decode()
            elif key == b"connection" and _names_others(value):
                return _request_headers(scope, info, forwarded_hosts, hop_by_hop(scope["headers"]))
            continue
        try:
            out.append((name.decode(), value.decode()))
        except UnicodeDecodeError:
            continue  # pyreqwest sends text as UTF-8: dropped rather than altered
    client = info.get("client_ip")
    if client is None and scope.get("client"):
        client = scope["client"][0]
    if client:
        out.append(("x-forwarded-for", str(client)))
    out.append(("x-forwarded-proto", scope.get("scheme", "http")))
    if host and host_name(host) in forwarded_hosts:
        out.append(("x-forwarded-host", host))
    return out


def _response_headers(response: Response) -> tuple[Headers, int]:
    """The upstream's headers as ASGI wants them, minus hop-by-hop ones; its Content-Length.

    The length is -1 when there is none (hyper has checked it against the framing).
    """
    out: Headers = []
    length = -1
    try:
        for name, value in response.headers.items():  # names come lowercase
            raw = name.encode()
            key = raw.replace(b"_", b"-") if "_" in name else raw
            if key in HOP_BY_HOP:
                if key == b"connection" and _names_others(value.encode()):
                    return _response_headers_slow(response)
                continue
            if key == b"content-length":
                length = int(value)
            out.append((raw, value.encode()))
    except ValueError:  # a value pyreqwest cannot show as text, or an odd Content-Length
        return _response_headers_slow(response)
    return out, length


def _response_headers_slow(response: Response) -> tuple[Headers, int]:
    pairs = _readable_headers(response.headers)
    length = -1
    for name, value in pairs:
        if name == b"content-length" and value.isdigit():
            length = int(value)
    return hop_by_hop(pairs), length


def _names_others(connection: bytes) -> bool:
    """Whether a ``Connection`` value names headers beyond the standard hop-by-hop ones.

    The usual ``keep-alive``/``close`` take the fast path above; anything else goes
    through :func:`~apiward.gateway.headers.hop_by_hop`, the one reference.
    """
    if connection.lower() in _USUAL_CONNECTION:
        return False
    return any(
        tok.strip(b" \t").lower().replace(b"_", b"-") not in _CONNECTION_TOKENS
        for tok in connection.split(b",")
    )


def _failure(exc: PyreqwestError) -> tuple[int, str, str]:
    """Status, reason and phase of an attempt that got no response.

    Phases: ``"pool"`` (no connection slot in time), ``"connect"`` (the connection could
    not be made), both before anything was sent; ``"sent"`` (it may have reached the upstream).
    """
    if isinstance(exc, PoolTimeoutError):
        return 504, "upstream_timeout", "pool"
    causes = getattr(exc, "details", None) or {}
    connecting = any(c.get("message") == _CONNECT_CAUSE for c in causes.get("causes") or ())
    phase = "connect" if connecting else "sent"
    if isinstance(exc, RequestTimeoutError):
        return 504, "upstream_timeout", phase
    if connecting:
        return 502, "upstream_unreachable", phase
    return 502, "upstream_error", phase


def _base_url(url: str) -> str:
    """``scheme://host:port/prefix`` of a target URL, the request's path goes after it."""
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError on a bad port
    except ValueError:
        raise ConfigError(f"upstream target {url!r} is not a valid URL", key="targets") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigError(
            f"upstream target {url!r} must be an http:// or https:// URL with a host",
            key="targets",
        )
    if parts.query or parts.fragment or "@" in parts.netloc:
        raise ConfigError(
            f"upstream target {url!r}: no credentials, query or fragment", key="targets"
        )
    return f"{parts.scheme}://{parts.netloc}{parts.path.rstrip('/')}"


def _client(config: UpstreamConfig) -> Client:
    """One client per target, built once: its pool is that target's connections."""
    builder = (
        ClientBuilder()
        .no_proxy()  # HTTP(S)_PROXY in the environment is for outbound calls, not upstreams
        .follow_redirects(False)  # a redirect is the client's to follow
        .gzip(False)  # bodies pass as they are, Content-Encoding and all
        .brotli(False)
        .zstd(False)
        .deflate(False)
        .referer(False)
        .connect_timeout(timedelta(seconds=config.connect_timeout))
        .read_timeout(timedelta(seconds=config.read_timeout))
        .max_connections(config.max_connections)
        .pool_max_idle_per_host(config.max_connections)
        .pool_timeout(timedelta(seconds=config.connect_timeout))
        .min_tls_version("TLSv1.2")
    )
    if config.timeout is not None:
        builder = builder.timeout(timedelta(seconds=config.timeout))
    tls = config.tls
    try:
        if tls.ca_file is not None:
            builder = builder.add_root_certificate_pem(_read(tls.ca_file, "tls.ca_file"))
        if tls.cert_file is not None and tls.key_file is not None:
            cert = _read(tls.cert_file, "tls.cert_file")
            key = _read(tls.key_file, "tls.key_file")
            builder = builder.identity_pem(cert + b"\n" + key)
        if not tls.verify:
            builder = builder.danger_accept_invalid_certs(True)
        return builder.build()
    except (PyreqwestError, ValueError) as exc:
        raise ConfigError(
            f"upstream {config.name!r}: TLS settings unusable ({exc})", key="tls"
        ) from None


def _read(path: str, key: str) -> bytes:
    try:
        return Path(path).read_bytes()
    except OSError as exc:
        raise ConfigError(f"cannot read {path}: {exc.strerror or exc}", key=key) from None
