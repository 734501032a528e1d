"""UpstreamProxy between httpx and real upstreams on 127.0.0.1: forwarding, balancing, failures."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import ipaddress
import itertools
import json
import socket
import ssl
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
import uvicorn
from cryptography import x509
from cryptography.x509.oid import NameOID
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response, StreamingResponse
from starlette.routing import Route

from apiward.demo.server import serve_app
from apiward.errors import ConfigError
from apiward.gateway.upstream import (
    HealthCheck,
    UpstreamConfig,
    UpstreamProxy,
    UpstreamTLS,
)
from tests.gateway.test_tls import Issued, issue

WAIT = 10.0  # the bound of every wait on a background state change
BIG = 5 * 1024 * 1024


def wait_for(condition: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + WAIT
    while not condition():
        assert time.monotonic() < deadline, f"gave up waiting for {what}"
        time.sleep(0.02)


def closed_port() -> str:
    """A loopback URL nobody listens on: connections are refused."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}"


class Upstream:
    """A small upstream whose answers and counters the tests steer."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.healthy = True
        self.posts = 0
        self.gets = 0
        self.release = threading.Event()  # ends /slow and the pause in /stream
        self.app = Starlette(
            routes=[
                Route("/echo/{rest:path}", self.echo, methods=["GET", "POST", "PUT", "DELETE"]),
                Route("/name", self.whoami),
                Route("/health", self.health),
                Route("/flaky", self.flaky, methods=["GET", "POST"]),
                Route("/slow", self.slow),
                Route("/big", self.big),
                Route("/stream", self.stream),
                Route("/headers", self.headers, methods=["GET", "HEAD"]),
                Route("/nothing", self.nothing),
            ]
        )

    async def echo(self, request: Request) -> Response:
        body = await request.body()
        scope = request.scope
        return JSONResponse(
            {
                "upstream": self.name,
                "method": scope["method"],
                "raw_path": scope["raw_path"].decode(),
                "query": scope["query_string"].decode(),
                "headers": [[k.decode(), v.decode("latin-1")] for k, v in scope["headers"]],
                "body_sha256": hashlib.sha256(body).hexdigest(),
                "body_len": len(body),
            }
        )

    async def whoami(self, request: Request) -> Response:
        return PlainTextResponse(self.name)

    async def health(self, request: Request) -> Response:
        return PlainTextResponse("ok" if self.healthy else "down", 200 if self.healthy else 503)

    async def flaky(self, request: Request) -> Response:
        """Counts its calls; the first one of each method answers 503."""
        if request.method == "POST":
            self.posts += 1
            first = self.posts == 1
        else:
            self.gets += 1
            first = self.gets == 1
        return PlainTextResponse("busy" if first else "done", 503 if first else 200)

    async def slow(self, request: Request) -> Response:
        await _wait(self.release)
        return PlainTextResponse("late")

    async def big(self, request: Request) -> Response:
        return Response(_payload(BIG), media_type="application/octet-stream")

    async def stream(self, request: Request) -> Response:
        async def chunks() -> Any:
            yield b"first;"
            # the rest only once the client has seen the first chunk: proof of streaming
            released = await _wait(self.release)
            yield b"released;" if released else b"timed-out;"
            for i in range(80):
                yield _payload(64 * 1024, seed=i)

        return StreamingResponse(chunks(), media_type="application/octet-stream")

    async def headers(self, request: Request) -> Response:
        return Response(
            b"hello",
            201,
            headers={"x-up": "1", "keep-alive": "timeout=5", "x-latin": "caf\xe9"},
        )

    async def nothing(self, request: Request) -> Response:
        return Response(status_code=204)


async def _wait(event: threading.Event) -> bool:
    deadline = time.monotonic() + WAIT
    while not event.is_set() and time.monotonic() < deadline:
        await asyncio.sleep(0.01)
    return event.is_set()


def _payload(size: int, seed: int = 0) -> bytes:
    block = hashlib.sha256(str(seed).encode()).digest()
    return (block * (size // len(block) + 1))[:size]


@contextlib.contextmanager
def upstreams(*names: str) -> Iterator[list[tuple[Upstream, str]]]:
    with contextlib.ExitStack() as stack:
        out = []
        for name in names:
            up = Upstream(name)
            out.append((up, stack.enter_context(serve_app(up.app))))
        try:
            yield out
        finally:
            for up, _ in out:
                up.release.set()


@contextlib.contextmanager
def serve(app: Any, **options: Any) -> Iterator[str]:
    """Serve ``app`` like apiward.gateway.server does: uvicorn's own proxy headers off.

    (serve_app keeps uvicorn's default, which trusts X-Forwarded-For from 127.0.0.1 and
    would hand the proxy a spoofed client address.)
    """
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(64)
    server = uvicorn.Server(
        uvicorn.Config(
            app,
            lifespan="off",
            log_level="critical",
            proxy_headers=False,
            server_header=False,
            date_header=False,
            **options,
        )
    )
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    try:
        wait_for(lambda: server.started or not thread.is_alive(), "the server to start")
        assert server.started
        scheme = "https" if "ssl_certfile" in options else "http"
        yield f"{scheme}://127.0.0.1:{sock.getsockname()[1]}"
    finally:
        server.should_exit = True
        thread.join(timeout=5)
        sock.close()


@contextlib.contextmanager
def proxied(app: Any) -> Iterator[httpx.Client]:
    with serve(app) as url, httpx.Client(base_url=url, timeout=WAIT) as client:
        yield client


@contextlib.contextmanager
def serve_https(app: Any, pki: dict[str, Issued], *, mutual: bool = False) -> Iterator[str]:
    with serve(
        app,
        ssl_certfile=str(pki["server"].cert_file),
        ssl_keyfile=str(pki["server"].key_file),
        ssl_ca_certs=str(pki["ca"].cert_file),
        ssl_cert_reqs=ssl.CERT_REQUIRED if mutual else ssl.CERT_NONE,
    ) as url:
        yield url


def config(*targets: str, **options: Any) -> UpstreamConfig:
    return UpstreamConfig("test", list(targets), **options)


@pytest.fixture(scope="module")
def echo() -> Iterator[tuple[Upstream, httpx.Client, UpstreamProxy, str]]:
    with upstreams("a") as [(up, url)]:
        proxy = UpstreamProxy(config(url))
        with proxied(proxy) as client:
            yield up, client, proxy, url


def header(seen: dict[str, Any], name: str) -> list[str]:
    return [v for k, v in seen["headers"] if k == name]


# --- forwarding --------------------------------------------------------------------------------


def test_forwards_method_path_query_body_and_headers_exactly(echo: Any) -> None:
    _, client, _, url = echo
    body = b'{"amount": 10, "note": "caf\xc3\xa9"}'
    r = client.post(
        "/echo/a%20b/%7Bc%7D/x,y;z?b=2&a=%2F&a=1&flag&q=caf%C3%A9",
        content=body,
        headers={"X-Custom": "one", "Authorization": "Bearer t0k", "X-Utf8": "café".encode()},
    )
    assert r.status_code == 200
    seen = r.json()
    assert seen["method"] == "POST"
    assert seen["raw_path"] == "/echo/a%20b/%7Bc%7D/x,y;z"
    assert seen["query"] == "b=2&a=%2F&a=1&flag&q=caf%C3%A9"
    assert seen["body_sha256"] == hashlib.sha256(body).hexdigest()
    assert header(seen, "content-length") == [str(len(body))]
    assert header(seen, "x-custom") == ["one"]
    assert header(seen, "authorization") == ["Bearer t0k"]
    assert header(seen, "x-utf8") == ["café".encode().decode("latin-1")]  # the same bytes
    # the upstream's own Host (reverse-proxy default); the client's, any name it likes, is
    # not passed on in X-Forwarded-Host unless the API names it (below)
    assert header(seen, "host") == [url.removeprefix("http://")]
    assert header(seen, "x-forwarded-host") == []
    assert header(seen, "x-forwarded-for") == ["127.0.0.1"]
    assert header(seen, "x-forwarded-proto") == ["http"]


def test_only_the_apis_own_host_names_go_in_x_forwarded_host() -> None:
    hosts = (
        "api.example:8443",
        "API.example.",
        "[::1]:80",
        "evil.example",
        "api.example.evil",
        "api.example:1@evil.example",  # user info: a link to evil.example
        "api.example:443/x",
    )
    with upstreams("a") as [(_, url)]:
        proxy = UpstreamProxy(config(url, forwarded_hosts=frozenset({"api.example", "::1"})))
        with proxied(proxy) as client:
            seen = {
                host: header(
                    client.get("/echo/h", headers={"Host": host}).json(), "x-forwarded-host"
                )
                for host in hosts
            }
    forwarded = {host for host, values in seen.items() if values}
    assert forwarded == {"api.example:8443", "API.example.", "[::1]:80"}
    assert all(seen[h] == [h] for h in forwarded)


def test_each_method_and_empty_bodies(echo: Any) -> None:
    _, client, _, _ = echo
    for method in ("GET", "PUT", "DELETE"):
        seen = client.request(method, "/echo/m").json()
        assert seen["method"] == method
        assert seen["body_len"] == 0
        assert seen["query"] == ""


def test_hop_by_hop_and_spoofed_forwarding_headers_are_replaced(echo: Any) -> None:
    _, client, _, _ = echo
    r = client.get(
        "/echo/h",
        headers=[
            ("Connection", "keep-alive, X-Secret"),
            ("X-Secret", "only for the next hop"),
            ("Keep-Alive", "timeout=5"),
            ("Proxy-Authorization", "Basic Zm9vOmJhcg=="),
            ("X-Forwarded-For", "6.6.6.6"),
            ("X_Forwarded_For", "6.6.6.7"),
            ("X-Forwarded-Host", "evil.example"),
            ("X-Forwarded-Proto", "https"),
            ("X-Forwarded-Prefix", "/admin"),
            ("Forwarded", "for=6.6.6.6;proto=https"),
            ("X-Real-IP", "6.6.6.6"),
            ("X-Kept", "yes"),
        ],
    )
    seen = r.json()
    names = [k for k, _ in seen["headers"]]
    for gone in ("connection", "x-secret", "keep-alive", "proxy-authorization", "forwarded"):
        assert gone not in names
    assert "x-real-ip" not in names and "x_forwarded_for" not in names
    assert "x-forwarded-prefix" not in names
    assert header(seen, "x-forwarded-for") == ["127.0.0.1"]
    assert header(seen, "x-forwarded-proto") == ["http"]
    assert header(seen, "x-forwarded-host") != ["evil.example"]
    assert header(seen, "x-kept") == ["yes"]


def test_client_ip_and_upstream_report_through_the_scope() -> None:
    reports: list[dict[str, Any]] = []
    with upstreams("a") as [(_, url)]:
        proxy = UpstreamProxy(config(url))

        async def gateway(scope: Any, receive: Any, send: Any) -> None:
            info = {"client_ip": "203.0.113.9"}
            scope["extensions"] = {"apiward": info}
            await proxy(scope, receive, send)
            reports.append(info)

        with proxied(gateway) as client:
            seen = client.get("/echo/ip").json()
        with proxied(proxy) as client:  # no extensions at all: created, and the peer used
            assert header(client.get("/echo/ip").json(), "x-forwarded-for") == ["127.0.0.1"]
    assert header(seen, "x-forwarded-for") == ["203.0.113.9"]
    [info] = reports
    assert info["upstream"] == url
    assert isinstance(info["upstream_latency_us"], int) and info["upstream_latency_us"] >= 0
    assert info["upstream_attempts"] == 1


def test_response_status_headers_and_body_pass_through(echo: Any) -> None:
    _, client, _, _ = echo
    r = client.get("/headers")
    assert r.status_code == 201
    assert r.content == b"hello"
    assert r.headers["x-up"] == "1"
    assert r.headers["content-length"] == "5"
    assert "keep-alive" not in r.headers  # hop-by-hop
    # pyreqwest cannot show a non-ASCII value as text: that one header is dropped, not mangled
    assert "x-latin" not in r.headers
    head = client.head("/headers")
    assert head.status_code == 201
    assert head.content == b""
    assert head.headers["content-length"] == "5"
    empty = client.get("/nothing")
    assert empty.status_code == 204 and empty.content == b""


def test_a_large_response_is_streamed_not_buffered() -> None:
    with upstreams("a") as [(up, url)], proxied(UpstreamProxy(config(url))) as client:
        r = client.get("/big")
        assert r.status_code == 200
        assert r.headers["content-length"] == str(BIG)
        assert hashlib.sha256(r.content).digest() == hashlib.sha256(_payload(BIG)).digest()

        with client.stream("GET", "/stream") as r:
            chunks = r.iter_raw()
            first = next(chunks)
            # the upstream holds the rest until we have the first chunk: a proxy that
            # buffered would deliver nothing until the upstream's wait timed out
            assert first.startswith(b"first;")
            up.release.set()
            rest = first + b"".join(chunks)
        assert rest.startswith(b"first;released;")
        assert len(rest) == len(b"first;released;") + 80 * 64 * 1024


def test_a_json_only_operation_reads_ahead_and_still_relays_every_byte() -> None:
    with upstreams("a") as [(_, url)]:
        proxy = UpstreamProxy(config(url))

        async def gateway(scope: Any, receive: Any, send: Any) -> None:
            scope["extensions"] = {"apiward": {"buffer_response": True}}
            await proxy(scope, receive, send)

        with proxied(gateway) as client:
            small = client.get("/headers")
            big = client.get("/big")  # larger than the read-ahead: the rest streams on
    assert (small.status_code, small.content) == (201, b"hello")
    assert hashlib.sha256(big.content).digest() == hashlib.sha256(_payload(BIG)).digest()


def test_a_large_request_body_is_streamed_upstream(echo: Any) -> None:
    _, client, _, _ = echo
    body = _payload(3 * 1024 * 1024, seed=7)
    seen = client.put("/echo/upload", content=body).json()
    assert seen["body_len"] == len(body)
    assert seen["body_sha256"] == hashlib.sha256(body).hexdigest()
    assert header(seen, "content-length") == [str(len(body))]

    def chunked() -> Iterator[bytes]:  # no Content-Length: chunked from the client
        for i in range(40):
            yield _payload(32 * 1024, seed=i)

    seen = client.post("/echo/chunked", content=chunked()).json()
    expected = b"".join(_payload(32 * 1024, seed=i) for i in range(40))
    assert seen["body_sha256"] == hashlib.sha256(expected).hexdigest()


# --- balancing and failures --------------------------------------------------------------------


def test_round_robin_across_two_targets() -> None:
    with upstreams("a", "b") as ups:
        proxy = UpstreamProxy(config(*(url for _, url in ups)))
        with proxied(proxy) as client:
            names = [client.get("/name").text for _ in range(10)]
    assert sorted(names) == ["a"] * 5 + ["b"] * 5
    assert all(x != y for x, y in itertools.pairwise(names))
    assert all(c["requests"] == 5 for c in proxy.counters().values())


def test_a_dead_target_is_skipped_and_get_retried() -> None:
    dead = closed_port()
    with upstreams("a") as [(_, url)]:
        proxy = UpstreamProxy(config(dead, url))
        with proxied(proxy) as client:
            answers = [client.get("/name") for _ in range(4)]
    assert [(r.status_code, r.text) for r in answers] == [(200, "a")] * 4
    counters = proxy.counters()
    # the refused connection took the dead target out (passive health): tried once only
    assert counters[dead] == {"requests": 1, "failures": 1, "retries": 0}
    assert counters[url]["requests"] == 4
    assert counters[url]["retries"] == 1
    assert proxy.health() == {dead: False, url: True}


def test_post_is_retried_when_no_connection_was_made() -> None:
    dead = closed_port()
    big = _payload(512 * 1024, seed=3)  # large enough to be streamed, not buffered
    with upstreams("a") as [(_, url)]:
        for body in (b"once", big):
            proxy = UpstreamProxy(config(dead, url))  # the dead one comes first
            with proxied(proxy) as client:
                seen = client.post("/echo/pay", content=body).json()
            assert seen["body_sha256"] == hashlib.sha256(body).hexdigest()
            assert proxy.counters()[dead]["failures"] == 1
            assert proxy.counters()[url]["retries"] == 1


def test_post_is_not_retried_once_the_upstream_got_it() -> None:
    with upstreams("a") as [(up, url)]:
        proxy = UpstreamProxy(config(url, retries=2))
        with proxied(proxy) as client:
            r = client.post("/flaky")
            assert (r.status_code, r.text) == (503, "busy")
            assert up.posts == 1
            # the quiet twin: an idempotent GET is retried past the 503
            r = client.get("/flaky")
            assert (r.status_code, r.text) == (200, "done")
            assert up.gets == 2
    # both 503s count as failures of the target, the one passed on and the one retried
    assert proxy.counters()[url] == {"requests": 3, "failures": 2, "retries": 1}


@contextlib.contextmanager
def hanging_up() -> Iterator[str]:
    """An upstream that reads the request, then closes without answering."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    listener.settimeout(0.05)
    stop = threading.Event()

    def serve() -> None:
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except TimeoutError:
                continue
            with conn:
                conn.settimeout(WAIT)
                data = b""
                while b"\r\n\r\n" not in data:
                    more = conn.recv(65536)
                    if not more:
                        break
                    data += more

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{listener.getsockname()[1]}"
    finally:
        stop.set()
        thread.join(timeout=5)
        listener.close()


def test_a_request_the_upstream_may_have_got_is_retried_only_if_idempotent() -> None:
    # pyreqwest raises ConnectError here too, though the request was sent: the phase decides
    with hanging_up() as closer, upstreams("a") as [(up, url)]:
        answers = {}
        for method, path in (("POST", "/flaky"), ("GET", "/name")):
            proxy = UpstreamProxy(config(closer, url))  # the one hanging up comes first
            with proxied(proxy) as client:
                answers[method] = client.request(method, path)
            # a target that took the connection is not taken out: it was reached
            assert proxy.health() == {closer: True, url: True}
    assert answers["POST"].json() == {"error": "Bad Gateway", "reason": "upstream_error"}
    assert up.posts == 0
    assert (answers["GET"].status_code, answers["GET"].text) == (200, "a")


def test_a_slow_upstream_answers_504_without_internals() -> None:
    with upstreams("a") as [(up, url)]:
        proxy = UpstreamProxy(config(url, read_timeout=0.3, retries=0))
        with proxied(proxy) as client:
            r = client.get("/slow")
            up.release.set()
            assert client.get("/name").text == "a"  # the target stays in rotation
    assert r.status_code == 504
    assert r.json() == {"error": "Gateway Timeout", "reason": "upstream_timeout"}
    assert r.headers["content-type"] == "application/json"


def test_all_targets_down_answers_502() -> None:
    first, second = closed_port(), closed_port()
    proxy = UpstreamProxy(config(first, second))
    with proxied(proxy) as client:
        r = client.get("/anything")
        assert r.status_code == 502
        assert r.json() == {"error": "Bad Gateway", "reason": "upstream_unreachable"}
        assert "refused" not in r.text.lower()
        # both are now sitting out their time-out: nothing is even tried
        r = client.get("/anything")
        assert r.json() == {"error": "Bad Gateway", "reason": "no_healthy_upstream"}
    assert proxy.health() == {first: False, second: False}
    assert sum(c["requests"] for c in proxy.counters().values()) == 2


def test_a_single_target_is_not_taken_out_by_one_refusal() -> None:
    # nginx's rule: with nowhere else to go, a passive time-out would only prolong an outage
    dead = closed_port()
    proxy = UpstreamProxy(config(dead, retries=0))
    with proxied(proxy) as client:
        reasons = [client.get("/x").json()["reason"] for _ in range(2)]
    assert reasons == ["upstream_unreachable"] * 2
    assert proxy.health() == {dead: True}


def test_an_upstream_breaking_off_mid_body_cuts_the_client_connection() -> None:
    async def liar(scope: Any, receive: Any, send: Any) -> None:
        headers = [(b"content-length", b"1000")]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": b"x" * 10, "more_body": True})
        # returning unfinished: uvicorn closes the connection

    with (
        serve_app(liar) as url,
        proxied(UpstreamProxy(config(url, retries=0))) as client,
        pytest.raises(httpx.RemoteProtocolError),
    ):
        client.get("/")


def test_active_health_check_takes_a_target_out_and_back() -> None:
    health = HealthCheck("/health", interval=0.05, timeout=1.0, unhealthy_threshold=2)
    with upstreams("a", "b") as [(a, url_a), (_, url_b)]:
        proxy = UpstreamProxy(config(url_a, url_b, health=health))
        with proxied(proxy) as client:
            client.get("/name")  # the first request starts the checks (no lifespan here)
            a.healthy = False
            wait_for(lambda: not proxy.health()[url_a], "a to be marked down")
            assert {client.get("/name").text for _ in range(6)} == {"b"}
            a.healthy = True
            wait_for(lambda: proxy.health()[url_a], "a to be back")
            assert {client.get("/name").text for _ in range(6)} == {"a", "b"}


def test_lifespan_starts_and_stops_the_checks_and_websockets_are_refused() -> None:
    async def run() -> tuple[list[str], bool, bool]:
        proxy = UpstreamProxy(config(closed_port(), health=HealthCheck("/health")))
        inbox: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        sent: list[str] = []

        async def send(message: Any) -> None:
            sent.append(message["type"])

        await inbox.put({"type": "lifespan.startup"})
        task = asyncio.create_task(proxy({"type": "lifespan"}, inbox.get, send))
        while not sent:
            await asyncio.sleep(0.01)
        checking = proxy._checks is not None and not proxy._checks.done()
        await inbox.put({"type": "lifespan.shutdown"})
        await asyncio.wait_for(task, WAIT)
        stopped = proxy._checks is None
        await proxy({"type": "websocket"}, inbox.get, send)
        return sent, checking, stopped

    sent, checking, stopped = asyncio.run(run())
    assert sent == ["lifespan.startup.complete", "lifespan.shutdown.complete", "websocket.close"]
    assert checking and stopped


def asgi_call(
    app: Any, path: str, messages: list[dict[str, Any]], *, method: str = "GET", **extra: Any
) -> list[dict[str, Any]]:
    """Call ``app`` in a fresh loop with scripted ``receive`` messages; what it sent."""
    scope = {
        "type": "http",
        "method": method,
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "headers": [(b"host", b"gateway.test")],
        "client": ("192.0.2.1", 50000),
        **extra,
    }
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        if messages:
            return messages.pop(0)
        await asyncio.sleep(0)
        return {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)
        await asyncio.sleep(0)

    asyncio.run(app(scope, receive, send))
    return sent


def test_a_client_leaving_mid_upload_sends_nothing_and_breaks_nothing(echo: Any) -> None:
    _, client, _, url = echo
    proxy = UpstreamProxy(config(url))
    part = {"type": "http.request", "body": _payload(100 * 1024), "more_body": True}
    sent = asgi_call(proxy, "/echo/upload", [part, part], method="PUT")
    assert sent == []  # nobody left to answer
    assert proxy.counters()[url]["requests"] == 1
    assert client.get("/echo/after").status_code == 200


def test_a_client_leaving_mid_download_stops_the_transfer(echo: Any) -> None:
    _, _, _, url = echo
    request = {"type": "http.request", "body": b"", "more_body": False}
    sent = asgi_call(UpstreamProxy(config(url)), "/big", [request])
    assert sent[0]["status"] == 200
    received = sum(len(m.get("body", b"")) for m in sent[1:])
    assert 0 < received < BIG
    assert all(m.get("more_body") for m in sent[1:])  # left unfinished, not passed off as whole


def test_a_header_the_client_library_refuses_is_answered_400(echo: Any) -> None:
    _, _, _, url = echo
    request = {"type": "http.request", "body": b"", "more_body": False}
    headers = [(b"host", b"gateway.test"), (b"x-bad", b"a\x01b")]
    sent = asgi_call(UpstreamProxy(config(url)), "/name", [request], headers=headers)
    assert sent[0]["status"] == 400
    assert json.loads(sent[1]["body"]) == {
        "error": "Bad Request",
        "reason": "unforwardable_request",
    }


# --- configuration -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("targets", "fragment"),
    [
        ([], "no targets"),
        (["ftp://10.0.0.1"], "http:// or https://"),
        (["10.0.0.1:8080"], "http:// or https://"),
        (["http://user:pw@10.0.0.1"], "no credentials"),
        (["http://10.0.0.1?x=1"], "no credentials"),
        (["http://10.0.0.1:99999"], "not a valid URL"),
        (["http://10.0.0.1", "http://10.0.0.1"], "twice"),
        ("http://10.0.0.1", "list of URLs"),
    ],
)
def test_bad_targets_are_config_errors(targets: Any, fragment: str) -> None:
    with pytest.raises(ConfigError, match=fragment):
        UpstreamConfig("api", targets)


def test_bad_settings_are_config_errors() -> None:
    for bad in ({"retries": -1}, {"max_connections": 0}, {"connect_timeout": 0}):
        with pytest.raises(ConfigError):
            UpstreamConfig("api", ["http://10.0.0.1"], **bad)
    with pytest.raises(ConfigError):
        HealthCheck("health")
    with pytest.raises(ConfigError):
        HealthCheck("/health", unhealthy_threshold=0)
    with pytest.raises(ConfigError, match="go together"):
        UpstreamTLS(cert_file="c.pem")
    with pytest.raises(ConfigError, match="cannot read"):
        UpstreamProxy(UpstreamConfig("api", ["https://h"], tls=UpstreamTLS(ca_file="/nope")))


def test_a_target_prefix_is_kept(echo: Any) -> None:
    _, _, _, url = echo
    with proxied(UpstreamProxy(config(url + "/echo/base/"))) as client:
        assert client.get("/x?y=1").json()["raw_path"] == "/echo/base/x"


# --- HTTPS upstreams ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Issued]:
    d = tmp_path_factory.mktemp("upstream-pki")

    def name(cn: str) -> x509.Name:
        return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])

    ca = issue(d, "ca", name("upstream CA"), is_ca=True)
    san: list[x509.GeneralName] = [x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
    server = issue(d, "server", name("127.0.0.1"), ca=ca, san=san)
    gateway = issue(d, "gateway", name("gateway"), ca=ca, client=True)
    return {"ca": ca, "server": server, "gateway": gateway}


def _tls(pki: dict[str, Issued], client: bool = True) -> UpstreamTLS:
    ca = str(pki["ca"].cert_file)
    if not client:
        return UpstreamTLS(ca_file=ca)
    return UpstreamTLS(
        ca_file=ca, cert_file=str(pki["gateway"].cert_file), key_file=str(pki["gateway"].key_file)
    )


def test_https_upstream_is_verified(pki: dict[str, Issued]) -> None:
    up = Upstream("tls")
    with serve_https(up.app, pki) as url:
        with proxied(UpstreamProxy(config(url, tls=_tls(pki, client=False)))) as client:
            assert client.get("/name").text == "tls"
        # verification is on by default: an unknown CA is refused, and says no more than that
        with proxied(UpstreamProxy(config(url, retries=0))) as client:
            r = client.get("/name")
            assert r.json() == {"error": "Bad Gateway", "reason": "upstream_unreachable"}
        insecure = UpstreamTLS(verify=False)
        with proxied(UpstreamProxy(config(url, tls=insecure))) as client:
            assert client.get("/name").text == "tls"


def test_mutual_tls_to_the_upstream(pki: dict[str, Issued]) -> None:
    up = Upstream("mtls")
    with serve_https(up.app, pki, mutual=True) as url:
        with proxied(UpstreamProxy(config(url, tls=_tls(pki)))) as client:
            assert client.get("/name").text == "mtls"
        with proxied(UpstreamProxy(config(url, tls=_tls(pki, client=False)))) as client:
            assert client.get("/name").status_code == 502
