"""JwtVerifier against a real JWKS / OIDC discovery server on 127.0.0.1."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Iterator
from typing import Any

import pytest
from joserfc import jwk, jwt
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from apiward.demo.server import serve_app
from apiward.gateway.auth_common import AuthUnavailable, InvalidCredentials
from apiward.gateway.auth_jwt import JwtVerifier
from tests.gateway.test_auth_jwt import AUD, Clock, claims

K1 = jwk.RSAKey.generate_key(2048, parameters={"kid": "k1"})
K2 = jwk.ECKey.generate_key("P-256", parameters={"kid": "k2"})
ATTACKER = jwk.RSAKey.generate_key(2048, parameters={"kid": "evil"})


def public(*keys: Any) -> dict[str, Any]:
    return {"keys": [k.as_dict(private=False) for k in keys]}


class IdP:
    """A tiny identity provider: discovery, a JWKS we can rotate, and a log of every hit."""

    def __init__(self) -> None:
        self.jwks: dict[str, Any] = public(K1)
        self.status = 200
        self.hits: list[str] = []
        self.url = ""
        self.issuer = ""

    def app(self) -> Starlette:
        async def anything(request: Request) -> Response:
            path = request.url.path
            self.hits.append(path)
            if path == "/.well-known/openid-configuration":
                return JSONResponse({"issuer": self.issuer, "jwks_uri": f"{self.url}/jwks"})
            if path == "/jwks":
                return JSONResponse(self.jwks, status_code=self.status)
            if path == "/evil.json":
                return JSONResponse(public(ATTACKER))
            return Response(status_code=404)

        return Starlette(routes=[Route("/{path:path}", anything)])

    def count(self, path: str) -> int:
        return self.hits.count(path)


@pytest.fixture
def idp() -> Iterator[IdP]:
    server = IdP()
    with serve_app(server.app()) as url:
        server.url = server.issuer = url
        yield server


def token(key: Any, jti: str | None = None, **header: Any) -> str:
    alg = "ES256" if isinstance(key, jwk.ECKey) else "RS256"
    body = claims(iss=None, jti=jti)
    return jwt.encode({"alg": alg, "kid": key.kid} | header, body, key, algorithms=[alg])


def jwks_verifier(idp: IdP, clock: Clock, **kw: Any) -> JwtVerifier:
    kw.setdefault("jwks_url", f"{idp.url}/jwks")
    return JwtVerifier(audience=AUD, clock=clock, refresh_interval=30, jwks_ttl=300, **kw)


async def reason(v: JwtVerifier, tok: str) -> str:
    try:
        await v.verify(tok)
    except InvalidCredentials as err:
        return err.reason
    raise AssertionError("accepted")


def test_keys_come_from_the_jwks_and_a_new_kid_triggers_one_refresh(idp: IdP) -> None:
    clock = Clock()

    async def go() -> None:
        v = jwks_verifier(idp, clock)
        await v.prefetch()
        assert (await v.verify(token(K1))).subject == "alice"
        assert idp.count("/jwks") == 1
        idp.jwks = public(K1, K2)  # the IdP rotates in a new key
        clock.now += 31
        assert (await v.verify(token(K2))).subject == "alice"
        assert idp.count("/jwks") == 2
        await v.aclose()

    asyncio.run(go())


def test_unknown_kids_do_not_hammer_the_jwks(idp: IdP) -> None:
    clock = Clock()

    async def go() -> None:
        v = jwks_verifier(idp, clock)
        await v.prefetch()
        forged = [
            token(ATTACKER.__class__.generate_key(2048, parameters={"kid": f"x{i}"}))
            for i in range(3)
        ]
        for tok in forged * 3:
            assert await reason(v, tok) == "unknown_kid"
        assert idp.count("/jwks") == 1  # within refresh_interval of the prefetch: no fetch
        clock.now += 31
        results = await asyncio.gather(*(reason(v, t) for t in forged * 10))
        assert set(results) == {"unknown_kid"}
        assert idp.count("/jwks") == 2  # 30 concurrent unknown kids, one fetch
        await v.aclose()

    asyncio.run(go())


def test_key_urls_in_the_token_are_never_fetched(idp: IdP) -> None:
    clock = Clock()

    async def go() -> None:
        v = jwks_verifier(idp, clock)
        evil = f"{idp.url}/evil.json"
        for header in ({"jku": evil}, {"x5u": evil}, {"jwk": ATTACKER.as_dict(private=False)}):
            assert await reason(v, token(ATTACKER, **header)) == "unknown_kid"
            forged_kid = token(ATTACKER, **header | {"kid": "k1"})
            assert await reason(v, forged_kid) == "bad_signature"
        await v.aclose()

    asyncio.run(go())
    assert idp.count("/evil.json") == 0
    assert set(idp.hits) == {"/jwks"}


def test_oidc_discovery_finds_the_jwks_and_sets_the_issuer(idp: IdP) -> None:
    clock = Clock()

    async def go() -> None:
        v = JwtVerifier(oidc_issuer=idp.url, audience=AUD, clock=clock)
        tok = jwt.encode({"alg": "RS256", "kid": "k1"}, claims(iss=idp.url), K1)
        assert (await v.verify(tok)).subject == "alice"
        assert await reason(v, token(K1)) == "wrong_issuer"  # iss of the other IdP
        await v.aclose()

    asyncio.run(go())
    assert idp.hits == ["/.well-known/openid-configuration", "/jwks"]


def test_discovery_naming_another_issuer_fails_closed(idp: IdP) -> None:
    idp.issuer = "https://evil.example"

    async def go() -> None:
        v = JwtVerifier(oidc_issuer=idp.url, audience=AUD, clock=Clock())
        tok = jwt.encode({"alg": "RS256", "kid": "k1"}, claims(iss=idp.url), K1)
        with pytest.raises(AuthUnavailable) as info:
            await v.verify(tok)
        assert "another issuer" in info.value.message
        await v.aclose()

    asyncio.run(go())


def test_jwks_down_denies_and_is_not_hammered(idp: IdP) -> None:
    idp.status = 500
    clock = Clock()

    async def go() -> None:
        v = jwks_verifier(idp, clock)
        for _ in range(5):
            with pytest.raises(AuthUnavailable):
                await v.verify(token(K1))
        assert idp.count("/jwks") == 1
        assert "500" in v.last_error
        idp.status = 200
        clock.now += 31
        assert (await v.verify(token(K1))).subject == "alice"
        await v.aclose()

    asyncio.run(go())


def test_jwks_unreachable_denies() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]

    async def go() -> None:
        v = JwtVerifier(jwks_url=f"http://127.0.0.1:{port}/jwks", audience=AUD, clock=Clock())
        with pytest.raises(AuthUnavailable) as info:
            await v.verify(token(K1))
        assert info.value.status == 503
        await v.aclose()

    asyncio.run(go())


def test_stale_keys_refresh_in_the_background_and_withdrawn_keys_stop_working(idp: IdP) -> None:
    clock = Clock()

    async def go() -> None:
        v = jwks_verifier(idp, clock)
        t1 = token(K1)
        await v.verify(t1)
        assert v.cached == 1
        idp.jwks = public(K2)  # K1 withdrawn (compromised, say)
        clock.now += 301  # past jwks_ttl: the next request refreshes without waiting
        await v.verify(token(K1, jti="new"))  # still served from the stale set
        assert v._background is not None
        await v._background
        assert idp.count("/jwks") == 2
        assert v.cached == 0  # verdicts made with the withdrawn key are dropped
        assert await reason(v, t1) == "unknown_kid"
        assert (await v.verify(token(K2))).subject == "alice"
        await v.aclose()

    asyncio.run(go())


def test_jwks_keys_are_filtered(idp: IdP) -> None:
    secret = jwk.OctKey.generate_key(256, parameters={"kid": "oct"})
    signer = jwk.RSAKey.generate_key(2048, parameters={"kid": "enc"})
    enc = jwk.RSAKey.import_key(signer.as_dict() | {"use": "enc"})
    pinned = jwk.RSAKey.generate_key(2048, parameters={"kid": "pinned", "alg": "PS256"})
    idp.jwks = {
        "keys": [
            secret.as_dict(),
            enc.as_dict(private=False),
            {"kty": "RSA"},
            pinned.as_dict(private=False),
            "junk",
        ]
    }

    async def go() -> None:
        v = jwks_verifier(idp, Clock())
        oct_token = jwt.encode({"alg": "HS256", "kid": "oct"}, claims(iss=None), secret)
        assert await reason(v, oct_token) == "alg_not_allowed"  # HS never from a JWKS
        assert await reason(v, token(signer)) == "unknown_kid"  # use=enc is not for signatures
        unpinned = jwk.RSAKey.import_key(
            {k: v for k, v in pinned.as_dict(private=True).items() if k != "alg"}
        )
        assert await reason(v, token(unpinned)) == "alg_not_allowed"  # the JWK pins PS256
        ps = jwt.encode({"alg": "PS256", "kid": "pinned"}, claims(iss=None), pinned, ["PS256"])
        assert (await v.verify(ps)).subject == "alice"
        await v.aclose()

    asyncio.run(go())
