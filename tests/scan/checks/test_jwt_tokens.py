"""jwt-alg-none, jwt-signature-not-verified, jwt-weak-secret, jwt-expiry-not-enforced.

The demo bank shows the first, third and fourth (alg none, the secret "secret",
exp ignored); a small HS256 app with a strong key shows a server that never
verifies signatures, and one that ignores exp with an expired token from the config.
"""

from __future__ import annotations

import base64
import json
import secrets
import time
from typing import Any

import pytest
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import OctKey
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from apiward.config import IdentitySection
from apiward.core import Finding, Severity, load
from apiward.demo import Settings, serve
from apiward.scan import ScanResult
from tests.scan.conftest import BEARER, DEMO_SPEC, openapi, scan_demo, scan_spec, served

NONE, SIGNATURE, WEAK, EXPIRY = (
    "jwt-alg-none",
    "jwt-signature-not-verified",
    "jwt-weak-secret",
    "jwt-expiry-not-enforced",
)
ALL = (NONE, SIGNATURE, WEAK, EXPIRY)


@pytest.fixture(scope="module")
def demo_findings() -> dict[str, Finding]:
    with serve(False, settings=Settings()) as url:
        result = scan_demo(load(DEMO_SPEC), url, *ALL)
    return {f.rule_id: f for f in result.findings}


def test_the_vulnerable_demo_shows_three_of_them(demo_findings: dict[str, Finding]) -> None:
    assert set(demo_findings) == {NONE, WEAK, EXPIRY}


def test_alg_none_proves_impersonating_the_admin(demo_findings: dict[str, Finding]) -> None:
    finding = demo_findings[NONE]
    assert finding.severity is Severity.CRITICAL and finding.confidence == "certain"
    assert "escalation proved" in finding.message and "naming admin" in finding.message
    assert '"username":"admin"' in (finding.evidence[1].response or "").replace(" ", "")


def test_weak_secret_is_masked_and_proved(demo_findings: dict[str, Finding]) -> None:
    finding = demo_findings[WEAK]
    assert "s***** (6 characters)" in finding.message and "'secret'" not in finding.message
    assert "list of" in finding.message and finding.severity is Severity.CRITICAL


def test_expiry_uses_the_cracked_secret(demo_findings: dict[str, Finding]) -> None:
    finding = demo_findings[EXPIRY]
    assert "re-signed with the cracked secret" in finding.message
    assert [u.key for u in finding.usages] == ["GET /users/me"]


def test_quiet_on_the_secure_demo(secure: str) -> None:
    assert scan_demo(load(DEMO_SPEC), secure, *ALL).findings == []


# ---------------------------------------------------------------- a strongly keyed HS256 app

KEY = OctKey.import_key(secrets.token_bytes(32))
SPEC = openapi(
    {
        "/login": {"post": {"security": [], "responses": {"200": {"description": "ok"}}}},
        "/me": {"get": {"responses": {"200": {"description": "ok"}}}},
        "/admin/stats": {"get": {"responses": {"200": {"description": "ok"}}}},
    },
    BEARER,
)


def _token(claims: dict[str, Any]) -> str:
    return jwt.encode({"alg": "HS256", "typ": "JWT"}, claims, KEY)


def _claims(token: str, mode: str) -> dict[str, Any] | None:
    if mode == "unverified":  # reads the payload, as jwt.decode(verify=False) does
        try:
            payload = token.split(".")[1]
            data = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
        except (IndexError, ValueError):
            return None
        return data if isinstance(data, dict) else None
    try:
        claims = jwt.decode(token, KEY, algorithms=["HS256"]).claims
    except (JoseError, ValueError):
        return None
    if mode == "fixed" and not claims.get("exp", 0) > time.time():
        return None
    return claims


def _app(mode: str) -> Starlette:
    async def login(request: Request) -> Response:
        exp = int(time.time()) + 900
        return JSONResponse({"token": _token({"sub": "carol", "role": "user", "exp": exp})})

    def caller(request: Request) -> dict[str, Any] | None:
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        return _claims(token, mode) if scheme.lower() == "bearer" else None

    async def me(request: Request) -> Response:
        claims = caller(request)
        if claims is None:
            return JSONResponse({"error": "unauthorized"}, status_code=401)
        return JSONResponse({"username": claims["sub"], "plan": "basic"})

    async def stats(request: Request) -> Response:
        claims = caller(request)
        if claims is None:
            return JSONResponse({"error": "unauthorized"}, status_code=401)
        if claims.get("role") != "admin":
            return JSONResponse({"error": "forbidden"}, status_code=403)
        return JSONResponse({"users": 1})

    return Starlette(
        routes=[
            Route("/login", login, methods=["POST"]),
            Route("/me", me),
            Route("/admin/stats", stats),
        ]
    )


app = served(_app, "unverified", "no-exp", "fixed")


def _scan(url: str) -> ScanResult:
    expired = _token({"sub": "carol", "role": "user", "exp": int(time.time()) - 600})
    login = {"operation": "POST /login", "body": {}, "token": "body.token"}
    carol = IdentitySection.model_validate({"login": login, "expired-token": expired})
    return scan_spec(SPEC, url, *ALL, identities={"carol": carol})


def test_small_app(app: tuple[str, str]) -> None:
    mode, url = app
    found = {f.rule_id: f for f in _scan(url).findings}
    if mode == "unverified":
        # no signature check at all: any claims pass, admin ones included
        assert set(found) == {NONE, SIGNATURE, EXPIRY}
        assert "GET /admin/stats" in found[SIGNATURE].message
        assert found[SIGNATURE].severity is Severity.CRITICAL
    elif mode == "no-exp":
        assert set(found) == {EXPIRY}
        assert "from the config" in found[EXPIRY].message
    else:
        assert found == {}
