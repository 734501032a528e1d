"""Serving the demo: start, stop, quiet logs, and the bits the flaw proofs do not reach."""

from __future__ import annotations

import logging
import socket
from collections.abc import Iterator

import httpx
import pytest
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from apiward.demo import create_app, run, serve
from apiward.demo.middleware import ErrorMiddleware
from apiward.demo.server import serve_app
from apiward.errors import UsageError
from tests.demo.targets import Target


def test_serve_starts_quietly_and_stops(capfd: pytest.CaptureFixture[str]) -> None:
    with serve() as url, httpx.Client(base_url=url, trust_env=False) as client:
        assert url.startswith("http://127.0.0.1:")
        assert client.get("/openapi.json").status_code == 200
    port = int(url.rsplit(":", 1)[1])
    with pytest.raises(OSError), socket.create_connection(("127.0.0.1", port), timeout=1):
        pass
    out, err = capfd.readouterr()
    assert out == err == ""


def test_a_busy_port_is_a_usage_error() -> None:
    with serve() as url:
        port = int(url.rsplit(":", 1)[1])
        with pytest.raises(UsageError, match=r"cannot listen on 127\.0\.0\.1"), serve(port=port):
            pass
        with pytest.raises(UsageError):
            run(port=port)


def test_the_vulnerable_mode_stays_on_loopback_unless_allowed() -> None:
    with pytest.raises(UsageError, match="refusing to serve"), serve(host="0.0.0.0"):
        pass
    with pytest.raises(UsageError, match="refusing to serve"):
        run(host="0.0.0.0")
    with serve(host="localhost") as url:
        assert url.startswith("http://127.0.0.1:")


def test_secure_mode_without_a_configured_key_signs_with_a_random_one() -> None:
    with serve(True) as url, httpx.Client(base_url=url, trust_env=False) as client:
        login = {"username": "alice", "password": "Alice-Passw0rd!"}
        token = client.post("/auth/login", json=login).json()["access_token"]
        me = client.get("/users/me", headers={"Authorization": f"Bearer {token}"})
        assert me.status_code == 200 and me.json()["username"] == "alice"
        assert me.headers.get("server") is None


def test_create_app_mode_wins_over_settings() -> None:
    from apiward.demo import Settings

    app = create_app(True, settings=Settings(secure=False))
    assert app.state.demo.secure is True
    assert "secret" not in repr(Settings(jwt_secret=b"secret"))


def test_secure_body_limit_also_counts_streamed_bodies(targets: dict[str, Target]) -> None:
    target = targets["secure"]
    target.reset()

    def chunks() -> Iterator[bytes]:
        yield b'{"display_name": "'
        for _ in range(100):
            yield b"A" * 1024
        yield b'"}'

    headers = {"Authorization": f"Bearer {target.token('alice')}"}
    r = target.client.patch("/users/me", content=chunks(), headers=headers)
    assert "content-length" not in r.request.headers
    assert r.status_code == 413


def _failing_app(secure: bool) -> Starlette:
    def boom(request: Request) -> Response:
        raise RuntimeError("db password is hunter2")

    return Starlette(
        routes=[Route("/boom", boom)], middleware=[Middleware(ErrorMiddleware, secure=secure)]
    )


def test_secure_errors_are_generic_and_logged(caplog: pytest.LogCaptureFixture) -> None:
    with (
        caplog.at_level(logging.ERROR, "apiward.demo"),
        serve_app(_failing_app(True)) as url,
        httpx.Client(base_url=url, trust_env=False) as client,
    ):
        r = client.get("/boom")
    assert r.status_code == 500 and r.json() == {"error": "internal server error"}
    assert "hunter2" in caplog.text


def test_vulnerable_errors_carry_the_traceback() -> None:
    with serve_app(_failing_app(False)) as url, httpx.Client(base_url=url, trust_env=False) as c:
        r = c.get("/boom")
    assert r.status_code == 500 and "hunter2" in r.json()["error"]
    assert "Traceback (most recent call last)" in r.json()["traceback"]
