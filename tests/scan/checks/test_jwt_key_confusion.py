"""jwt-key-confusion on a small RS256 app with the classic bug, its fixed twin, and the demo."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from pathlib import Path
from typing import Any

from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import RSAKey
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from apiward.config import IdentitySection
from apiward.core import Document, Severity
from apiward.scan import ScanResult
from apiward.scan.jwt_forge import parse
from tests.scan.conftest import scan_demo, scan_spec, served

CHECK = "jwt-key-confusion"
KEY = RSAKey.generate_key(2048, {"kid": "k1", "use": "sig"})
PUBLIC_PEM = KEY.as_pem(private=False)
SPEC: dict[str, Any] = {
    "openapi": "3.0.3",
    "info": {"title": "t", "version": "1"},
    "components": {
        "securitySchemes": {
            "bearer": {"type": "http", "scheme": "bearer"},
            # somebody else's host: never fetched
            "oidc": {
                "type": "openIdConnect",
                "openIdConnectUrl": "https://login.example.com/.well-known/openid-configuration",
            },
        }
    },
    "security": [{"bearer": []}],
    "paths": {
        "/login": {"post": {"security": [], "responses": {"200": {"description": "ok"}}}},
        "/me": {"get": {"responses": {"200": {"description": "ok"}}}},
        "/admin/stats": {"get": {"responses": {"200": {"description": "ok"}}}},
    },
}


def _verify(token: str, vulnerable: bool) -> dict[str, Any] | None:
    parsed = parse(token)
    if parsed is None:
        return None
    if vulnerable and parsed.alg == "HS256":
        # the classic bug: the verifier takes the alg from the token, and the key it
        # holds (the public PEM) becomes the HMAC secret
        mac = hmac.new(PUBLIC_PEM, parsed.signing_input, hashlib.sha256).digest()
        return parsed.claims if hmac.compare_digest(mac, parsed.signature) else None
    try:
        return dict(jwt.decode(token, KEY, algorithms=["RS256"]).claims)
    except (JoseError, ValueError):
        return None


def _app(mode: str) -> Starlette:
    vulnerable = mode == "vulnerable"

    async def login(request: Request) -> Response:
        claims = {"sub": "carol", "role": "user", "exp": int(time.time()) + 900}
        token = jwt.encode({"alg": "RS256", "kid": "k1"}, claims, KEY, algorithms=["RS256"])
        return JSONResponse({"token": token})

    async def jwks(request: Request) -> Response:
        return JSONResponse({"keys": [KEY.as_dict(private=False)]})

    def claims_of(request: Request) -> dict[str, Any] | None:
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        return _verify(token, vulnerable) if scheme.lower() == "bearer" else None

    async def me(request: Request) -> Response:
        claims = claims_of(request)
        if claims is None:
            return JSONResponse({"error": "unauthorized"}, status_code=401)
        return JSONResponse({"username": claims["sub"], "plan": "basic"})

    async def stats(request: Request) -> Response:
        claims = claims_of(request)
        if claims is None or claims.get("role") != "admin":
            return JSONResponse({"error": "forbidden"}, status_code=403)
        return JSONResponse({"users": 1})

    return Starlette(
        routes=[
            Route("/login", login, methods=["POST"]),
            Route("/.well-known/jwks.json", jwks),
            Route("/me", me),
            Route("/admin/stats", stats),
        ]
    )


app = served(_app, "vulnerable", "fixed")


def _scan(url: str, log: Path) -> ScanResult:
    login = {"operation": "POST /login", "body": {}, "token": "body.token"}
    carol = IdentitySection.model_validate({"login": login})
    return scan_spec(SPEC, url, CHECK, identities={"carol": carol}, request_log=str(log))


def test_key_confusion(app: tuple[str, str], tmp_path: Path) -> None:
    kind, url = app
    log = tmp_path / "requests.ndjson"
    findings = _scan(url, log).findings
    if kind == "vulnerable":
        [finding] = findings
        assert finding.severity is Severity.CRITICAL and finding.confidence == "certain"
        assert "/.well-known/jwks.json" in finding.message
        assert "GET /admin/stats" in finding.message  # escalated with role admin
    else:
        assert findings == []
    urls = [json.loads(line)["url"] for line in log.read_text().splitlines()]
    assert urls and all(u.startswith(url + "/") for u in urls)


def test_quiet_on_hs256_apis(demo_doc: Document, vulnerable: str) -> None:
    result = scan_demo(demo_doc, vulnerable, CHECK)
    assert result.findings == []
