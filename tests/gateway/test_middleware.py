"""GatewayMiddleware in front of real apps on 127.0.0.1: the demo bank and a small echo app."""

from __future__ import annotations

import base64
import contextlib
import json
import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from joserfc import jwt
from joserfc.jwk import OctKey
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Route

from apiward.core import from_dict, load
from apiward.demo import Settings, create_app, demo_file, serve_app
from apiward.gateway.auditlog import AuditLog, SqliteStore, verify_sqlite
from apiward.gateway.auth_jwt import JwtKey, JwtVerifier
from apiward.gateway.middleware import GatewayMiddleware
from apiward.gateway.ratelimit import Limit

# JwtVerifier refuses HS256 secrets under 32 bytes (RFC 7518 3.2), so the demo's
# vulnerable mode runs with a long secret here; its naive checks are unchanged.
KEY = b"apiward-test-demo-secret-0123456789"
ISSUER = "apiward-demo"


def token(sub: str = "alice", uid: int = 1, role: str = "user", key: bytes = KEY) -> str:
    now = int(time.time())
    claims = {"sub": sub, "uid": uid, "role": role, "iss": ISSUER, "iat": now, "exp": now + 600}
    return jwt.encode({"alg": "HS256", "typ": "JWT"}, claims, OctKey(key, key), ["HS256"])


def none_token(sub: str = "alice") -> str:
    def part(data: dict[str, Any]) -> str:
        return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()

    claims = {"sub": sub, "uid": 1, "role": "admin", "iss": ISSUER, "exp": int(time.time()) + 600}
    return f"{part({'alg': 'none', 'typ': 'JWT'})}.{part(claims)}."


def verifier() -> JwtVerifier:
    return JwtVerifier([JwtKey(KEY, ("HS256",))], issuer=ISSUER, require_audience=False)


@contextlib.contextmanager
def demo_gateway(**options: Any) -> Iterator[httpx.Client]:
    app = create_app(False, settings=Settings(jwt_secret=KEY))
    doc = load(demo_file("openapi.yaml"))
    wrapped = GatewayMiddleware(app, doc, authenticators={"bearerAuth": verifier()}, **options)
    with serve_app(wrapped) as url, httpx.Client(base_url=url) as client:
        yield client


def bearer(tok: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {tok}"}


@pytest.fixture(scope="module")
def demo() -> Iterator[httpx.Client]:
    with demo_gateway() as client:
        yield client


def test_the_demo_itself_accepts_what_the_gateway_refuses() -> None:
    app = create_app(False, settings=Settings(jwt_secret=KEY))
    with serve_app(app) as url:
        assert httpx.get(url + "/users/me", headers=bearer(none_token())).status_code == 200
        assert httpx.delete(url + "/accounts/3", headers=bearer(token())).status_code != 404


def test_routing_is_a_positive_model(demo: httpx.Client) -> None:
    r = demo.get("/nowhere")
    assert r.status_code == 404
    assert r.json() == {"error": "Not Found", "reason": "unknown_path"}
    r = demo.delete("/accounts/3", headers=bearer(token()))
    assert r.status_code == 405
    assert r.headers["allow"] == "GET, HEAD, PATCH"
    for shadow in ("/debug", "/api/v1/users"):
        assert demo.get(shadow, headers=bearer(token())).status_code == 404


def test_authentication(demo: httpx.Client) -> None:
    r = demo.get("/users/me")
    assert r.status_code == 401
    assert r.json() == {"error": "Unauthorized", "reason": "missing_credentials"}
    assert r.headers["www-authenticate"].startswith("Bearer")
    assert demo.get("/users/me", headers=bearer(none_token())).status_code == 401
    assert demo.get("/users/me", headers=bearer(token(key=b"x" * 32))).status_code == 401
    r = demo.get("/users/me", headers=bearer(token()))
    assert r.status_code == 200
    assert r.json()["username"] == "alice"
    assert r.headers["x-content-type-options"] == "nosniff"
    assert r.headers["cache-control"] == "no-store"
    # operations with `security: []` stay open
    r = demo.post("/auth/login", json={"username": "alice", "password": "Alice-Passw0rd!"})
    assert r.status_code == 200


@pytest.mark.parametrize(
    ("path", "headers"),
    [
        ("/admin%2fusers", {}),
        ("/accounts/..%2f", {}),
        ("/accounts/%2e%2e/admin/users", {}),
        ("/users/me", {"X-HTTP-Method-Override": "DELETE"}),
        ("/users/me", {"X-Original-URL": "/admin/users"}),
    ],
)
def test_ambiguous_requests_are_refused(
    demo: httpx.Client, path: str, headers: dict[str, str]
) -> None:
    r = demo.get(path, headers={**bearer(token()), **headers})
    assert r.status_code == 400
    assert set(r.json()) == {"error", "reason"}


def test_rate_limit_per_principal_and_operation() -> None:
    with demo_gateway(limits=[("getProfile", Limit(3, 60))]) as client:
        alice = bearer(token())
        for remaining in ("2", "1", "0"):
            r = client.get("/users/me", headers=alice)
            assert r.status_code == 200
            assert r.headers["ratelimit-remaining"] == remaining
        r = client.get("/users/me", headers=alice)
        assert r.status_code == 429
        assert int(r.headers["retry-after"]) >= 1
        assert r.json()["reason"] == "rate_limited"
        # another principal and another operation have their own budgets
        assert client.get("/users/me", headers=bearer(token("bob", 2))).status_code == 200
        assert client.get("/accounts", headers=alice).status_code == 200


def _rows(db: Path) -> list[sqlite3.Row]:
    if not db.exists():
        return []
    with contextlib.closing(sqlite3.connect(db)) as conn:
        conn.row_factory = sqlite3.Row
        try:
            return conn.execute("SELECT * FROM audit_log ORDER BY seq").fetchall()
        except sqlite3.OperationalError:  # table not created yet
            return []


def test_audit_rows_for_allowed_and_denied_requests(tmp_path: Path) -> None:
    db = tmp_path / "audit.db"
    audit = AuditLog(SqliteStore(db), tmp_path / "spool", flush_interval=0.02)
    tok = token()
    with demo_gateway(audit=audit) as client:
        assert client.get("/users/me", headers=bearer(tok)).status_code == 200
        assert client.get("/users/me").status_code == 401
        assert client.get("/debug").status_code == 404
        assert client.get("/admin%2fusers").status_code == 400
        rows: list[sqlite3.Row] = []
        for _ in range(500):  # bounded wait for the batched writer
            rows = _rows(db)
            if len(rows) >= 4:
                break
            time.sleep(0.01)
    assert len(rows) == 4
    assert verify_sqlite(db).ok
    ok, missing, unknown, ambiguous = rows
    assert (ok["decision"], ok["status"], ok["identity"]) == ("allow", 200, "alice")
    assert ok["operation"] == "GET /users/me" and ok["response_bytes"] > 0
    assert (missing["decision"], missing["status"]) == ("deny", 401)
    assert missing["policy"] == "authentication"
    assert missing["reason"] == "missing_credentials"
    assert (unknown["policy"], unknown["status"]) == ("routing", 404)
    assert (ambiguous["policy"], ambiguous["reason"]) == ("hardening", "path.encoded_slash")
    assert all(tok not in str(tuple(row)) for row in rows)


ECHO_SPEC: dict[str, Any] = {
    "openapi": "3.1.0",
    "info": {"title": "echo", "version": "1"},
    "components": {"securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}}},
    "security": [{"bearer": []}],
    "paths": {
        "/echo": {"get": {"operationId": "echo", "responses": {"200": {"description": "ok"}}}},
        "/page": {
            "get": {"security": [], "responses": {"200": {"description": "ok"}}},
        },
        "/undeclared": {"get": {"responses": {"200": {"description": "ok"}}}},
        "/files/{name}": {
            "get": {
                "security": [],
                "parameters": [
                    {"name": "name", "in": "path", "required": True, "schema": {"type": "string"}}
                ],
                "responses": {"200": {"description": "ok"}},
            }
        },
    },
}


async def _echo(request: Request) -> Response:
    headers = {k: v for k, v in request.headers.items() if k.startswith("x-apiward-")}
    return JSONResponse({"headers": headers, "path": request.url.path})


async def _page(request: Request) -> Response:
    return HTMLResponse("<p>hi</p>", headers={"x-frame-options": "SAMEORIGIN"})


@pytest.fixture(scope="module")
def echo() -> Iterator[httpx.Client]:
    app = Starlette(
        routes=[
            Route("/echo", _echo),
            Route("/page", _page),
            Route("/undeclared", _echo),
            Route("/files/{name}", _echo),
            Route("/health", _echo),
        ]
    )
    doc = from_dict(ECHO_SPEC)
    # the echo spec declares no response bodies: filtering would (rightly) refuse them all
    wrapped = GatewayMiddleware(
        app,
        doc,
        authenticators={"bearer": verifier()},
        passthrough=["GET /health"],
        response_filter=False,
    )
    with serve_app(wrapped) as url, httpx.Client(base_url=url) as client:
        yield client


def test_identity_headers_are_set_by_the_gateway_only(echo: httpx.Client) -> None:
    forged = {"X-Apiward-User": "admin", "x_apiward_scopes": "admin"}
    r = echo.get("/echo", headers={**bearer(token()), **forged})
    assert r.status_code == 200
    assert r.json()["headers"] == {"x-apiward-user": "alice", "x-apiward-scopes": ""}
    # no principal: the forged copies are still removed
    r = echo.get("/health", headers=forged)
    assert r.status_code == 200
    assert r.json()["headers"] == {}


def test_security_headers_do_not_override_the_app(echo: httpx.Client) -> None:
    r = echo.get("/page")
    assert r.status_code == 200
    assert r.headers["x-frame-options"] == "SAMEORIGIN"
    assert "content-security-policy" not in r.headers  # HTML: the app's own policy
    assert r.headers["x-content-type-options"] == "nosniff"
    assert "cache-control" not in r.headers  # anonymous
    r = echo.get("/echo", headers=bearer(token()))
    assert r.headers["content-security-policy"].startswith("default-src 'none'")
    assert r.headers["x-frame-options"] == "DENY"


def test_global_security_applies_and_paths_reach_the_app_canonical(
    echo: httpx.Client,
) -> None:
    assert echo.get("/undeclared").status_code == 401
    r = echo.get("/files/a%7Eb")  # an unreserved escape is decoded to one canonical form
    assert r.status_code == 200
    assert r.json()["path"] == "/files/a~b"
    assert echo.get("/files/a%2Fb").status_code == 400


class _DownLimiter:
    """A limiter whose backend is gone: the gateway must refuse, not admit."""

    async def hit(self, key: str, limit: Limit, cost: int = 1) -> Any:
        raise ConnectionError("backend down")


def test_undeclared_security_denies_and_a_down_limiter_fails_closed() -> None:
    spec = {
        "openapi": "3.1.0",
        "info": {"title": "open", "version": "1"},
        "paths": {"/echo": {"get": {"responses": {"200": {"description": "ok"}}}}},
    }
    app = Starlette(routes=[Route("/echo", _echo)])
    doc = from_dict(spec)
    strict = GatewayMiddleware(app, doc, authenticators={})
    with serve_app(strict) as url:
        assert httpx.get(url + "/echo").json()["reason"] == "no_security"
    lenient = GatewayMiddleware(
        app,
        doc,
        authenticators={},
        allow_undeclared_security=True,
        limits=[("*", Limit(5, 1))],
        limiter=_DownLimiter(),
    )
    with serve_app(lenient) as url:
        r = httpx.get(url + "/echo")
        assert r.status_code == 503
        assert r.json() == {"error": "Service Unavailable", "reason": "limiter_unavailable"}


def test_a_connection_header_cannot_remove_the_gateways_identity(echo: httpx.Client) -> None:
    headers = {**bearer(token()), "Connection": "keep-alive, x-apiward-user, x-apiward-scopes"}
    r = echo.get("/echo", headers=headers)
    assert r.status_code == 200
    assert r.json()["headers"]["x-apiward-user"] == "alice"


class _Broken:
    """A policy with a bug: it raises. The request must not go through, and be on record."""

    name, order = "broken", 40

    def overrides(self, hook: str) -> bool:
        return hook == "on_request"

    async def on_request(self, ex: Any) -> None:
        raise RuntimeError("bug")


def test_a_policy_that_raises_refuses_and_is_recorded_as_a_denial(tmp_path: Path) -> None:
    seen: list[Any] = []
    app = Starlette(routes=[Route("/echo", _echo)])
    gw = GatewayMiddleware(
        app,
        from_dict(ECHO_SPEC),
        policies=[_Broken()],  # type: ignore[list-item]
        observers=[seen.append],
    )
    with serve_app(gw) as url:
        r = httpx.get(url + "/echo")
    assert r.status_code == 500
    assert [(x.decision, x.policy, x.status) for x in seen] == [("deny", "internal", 500)]


def test_an_http11_request_without_host_is_refused_over_the_wire() -> None:
    import socket

    app = create_app(False, settings=Settings(jwt_secret=KEY))
    wrapped = GatewayMiddleware(app, load(demo_file("openapi.yaml")))
    with serve_app(wrapped) as url:
        host, port = url.removeprefix("http://").split(":")
        answers = []
        for head in (
            b"GET /auth/register HTTP/1.1\r\n",
            b"GET /auth/register HTTP/1.1\r\nHost: t\r\n",
        ):
            with socket.create_connection((host, int(port)), timeout=5) as sock:
                sock.sendall(head + b"Connection: close\r\n\r\n")
                answers.append(sock.recv(4096).split(b"\r\n")[0])
    assert answers[0] == b"HTTP/1.1 400 Bad Request"
    assert answers[1] == b"HTTP/1.1 405 Method Not Allowed"  # with a Host: routed (POST only)


def test_the_upstream_is_told_which_operations_answer_json_only() -> None:
    doc = from_dict(
        {
            "openapi": "3.1.0",
            "info": {"title": "t", "version": "1"},
            "security": [],
            "paths": {
                "/json": {"get": {"responses": {"200": {
                    "description": "ok", "content": {"application/problem+json": {}}}}}},
                "/events": {"get": {"responses": {"200": {
                    "description": "ok", "content": {"text/event-stream": {}}}}}},
                "/bare": {"get": {"responses": {"204": {"description": "none"}}}},
            },
        }
    )  # fmt: skip

    async def app(scope: Any, receive: Any, send: Any) -> None:
        info = scope["extensions"]["apiward"]
        body = json.dumps({"buffer": info.get("buffer_response", False)}).encode()
        await send({"type": "http.response.start", "status": 200,
                    "headers": [(b"content-type", b"application/json")]})  # fmt: skip
        await send({"type": "http.response.body", "body": body})

    wrapped = GatewayMiddleware(app, doc, response_filter=False)
    with serve_app(wrapped) as url:
        seen = {p: httpx.get(url + p).json()["buffer"] for p in ("/json", "/events", "/bare")}
    assert seen == {"/json": True, "/events": False, "/bare": False}
