"""Introspector against a real RFC 7662 endpoint on 127.0.0.1: active, inactive, down."""

from __future__ import annotations

import asyncio
import base64
import socket
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qsl, unquote

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from apiward.demo.server import serve_app
from apiward.errors import ConfigError
from apiward.gateway.auth_common import AuthRequest, AuthUnavailable, InvalidCredentials
from apiward.gateway.auth_introspect import Introspector
from tests.gateway.test_auth_jwt import NOW, Clock

CLIENT = ("gateway", "s3cret:/+")  # characters that RFC 6749 2.3.1 form-encodes


class AuthServer:
    def __init__(self) -> None:
        self.answers: dict[str, Any] = {
            "good": {
                "active": True,
                "sub": "carol",
                "scope": "read pay",
                "exp": NOW + 600,
                "aud": "api",
                "iss": "idp",
            },
            "short": {"active": True, "sub": "dave", "exp": NOW + 5},
            "gone": {"active": False},
            "weird": {"active": "true"},
            "list": [1],
        }
        self.mode = "ok"
        self.calls: list[str] = []
        self.clients: list[tuple[str, str]] = []

    def app(self) -> Starlette:
        async def introspect(request: Request) -> Response:
            form = dict(parse_qsl((await request.body()).decode()))
            token = form["token"]
            self.calls.append(token)
            basic = request.headers.get("authorization", "")
            if basic.startswith("Basic "):
                user, _, pw = base64.b64decode(basic[6:]).decode().partition(":")
                self.clients.append((unquote(user), unquote(pw)))
            else:
                self.clients.append((str(form.get("client_id")), str(form.get("client_secret"))))
            if self.mode == "down":
                return Response("oops", status_code=500)
            if self.mode == "slow":
                await asyncio.sleep(1)
            if self.mode == "html":
                return Response("<html>")
            return JSONResponse(self.answers.get(token, {"active": False}))

        return Starlette(routes=[Route("/introspect", introspect, methods=["POST"])])


@pytest.fixture
def server() -> Iterator[tuple[AuthServer, str]]:
    s = AuthServer()
    with serve_app(s.app()) as url:
        yield s, f"{url}/introspect"


def make(url: str, clock: Clock, **kw: Any) -> Introspector:
    return Introspector(url, *CLIENT, clock=clock, timeout=0.5, **kw)


async def reason(i: Introspector, token: str) -> str:
    try:
        await i.introspect(token)
    except (InvalidCredentials, AuthUnavailable) as err:
        assert token not in err.message
        return err.reason
    raise AssertionError("accepted")


def test_active_tokens_become_principals_and_are_cached(server: tuple[AuthServer, str]) -> None:
    srv, url = server
    clock = Clock()

    async def go() -> None:
        i = make(url, clock, cache_ttl=60, audience="api", issuer="idp")
        p = await i.introspect("good")
        assert (p.subject, p.scopes, p.scheme) == ("carol", {"read", "pay"}, "oauth2")
        assert await i.introspect("good") is p
        assert srv.calls == ["good"]
        clock.now += 61  # cache_ttl passed
        await i.introspect("good")
        assert srv.calls == ["good", "good"]
        await i.aclose()

    asyncio.run(go())
    assert srv.clients[0] == CLIENT


def test_cache_ends_at_the_tokens_exp(server: tuple[AuthServer, str]) -> None:
    srv, url = server
    clock = Clock()

    async def go() -> None:
        i = make(url, clock)
        await i.introspect("short")
        clock.now += 4
        await i.introspect("short")
        assert srv.calls == ["short"]
        clock.now += 2  # past exp: ask again, and the server's exp says no
        assert await reason(i, "short") == "inactive"
        assert srv.calls == ["short", "short"]
        await i.aclose()

    asyncio.run(go())


def test_inactive_tokens_are_denied_and_briefly_cached(server: tuple[AuthServer, str]) -> None:
    srv, url = server
    clock = Clock()

    async def go() -> None:
        i = make(url, clock, inactive_ttl=5)
        for _ in range(3):
            assert await reason(i, "gone") == "inactive"
        assert srv.calls == ["gone"]
        clock.now += 6
        assert await reason(i, "gone") == "inactive"
        assert srv.calls == ["gone", "gone"]
        await i.aclose()

    asyncio.run(go())


def test_answers_for_another_audience_or_issuer_are_inactive(
    server: tuple[AuthServer, str],
) -> None:
    _, url = server

    async def go() -> None:
        for kw in ({"audience": "other"}, {"issuer": "evil"}):
            i = make(url, Clock(), **kw)
            assert await reason(i, "good") == "inactive"
            await i.aclose()

    asyncio.run(go())


@pytest.mark.parametrize("mode", ["down", "slow", "html"])
def test_a_failing_endpoint_fails_closed_and_is_not_cached(
    server: tuple[AuthServer, str], mode: str
) -> None:
    srv, url = server
    srv.mode = mode

    async def go() -> None:
        i = make(url, Clock())
        assert await reason(i, "good") == "introspection_unavailable"
        srv.mode = "ok"
        assert (await i.introspect("good")).subject == "carol"
        await i.aclose()

    asyncio.run(go())


def test_malformed_answers_fail_closed(server: tuple[AuthServer, str]) -> None:
    _, url = server

    async def go() -> None:
        i = make(url, Clock())
        assert await reason(i, "weird") == "introspection_unavailable"
        assert await reason(i, "list") == "introspection_unavailable"
        await i.aclose()

    asyncio.run(go())


def test_unreachable_endpoint_fails_closed() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]

    async def go() -> None:
        i = make(f"http://127.0.0.1:{port}/introspect", Clock())
        with pytest.raises(AuthUnavailable) as info:
            await i.introspect("good")
        assert info.value.status == 503
        await i.aclose()

    asyncio.run(go())


def test_concurrent_requests_share_one_post_and_client_secret_post(
    server: tuple[AuthServer, str],
) -> None:
    srv, url = server

    async def go() -> None:
        i = make(url, Clock(), auth_method="client_secret_post")
        principals = await asyncio.gather(*(i.introspect("good") for _ in range(10)))
        assert {p.subject for p in principals} == {"carol"}
        assert srv.calls == ["good"]
        req = AuthRequest([("authorization", "Bearer good")])
        assert (await i.authenticate(req)) is principals[0]
        assert await i.authenticate(AuthRequest([])) is None
        await i.aclose()

    asyncio.run(go())
    assert srv.clients == [CLIENT]


def test_configuration_is_checked_and_secrets_stay_out_of_repr() -> None:
    with pytest.raises(ConfigError, match="https"):
        Introspector("http://idp.example/introspect", *CLIENT)
    i = Introspector("https://idp.example/introspect", *CLIENT)
    assert CLIENT[1] not in repr(i)
