"""The demo bank (vulnerable mode) behind the gateway engine, for the policy tests."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator
from typing import Any

import httpx
from joserfc import jwt
from joserfc.jwk import OctKey

from apiward.core import load
from apiward.demo import Settings, create_app, demo_file, serve_app
from apiward.gateway.auth_jwt import JwtKey, JwtVerifier
from apiward.gateway.middleware import GatewayMiddleware

# JwtVerifier refuses HS256 secrets under 32 bytes, so the demo runs with a long one here
KEY = b"apiward-test-demo-secret-0123456789"
ISSUER = "apiward-demo"


def token(sub: str = "alice", uid: int = 1, role: str = "user", **claims: Any) -> str:
    now = int(time.time())
    body = {"sub": sub, "uid": uid, "role": role, "iss": ISSUER, "iat": now, "exp": now + 600}
    body.update(claims)
    return jwt.encode({"alg": "HS256"}, body, OctKey.import_key(KEY), ["HS256"])


def bearer(sub: str = "alice", uid: int = 1, role: str = "user", **claims: Any) -> dict[str, str]:
    return {"Authorization": f"Bearer {token(sub, uid, role, **claims)}"}


@contextlib.contextmanager
def bank(**options: Any) -> Iterator[httpx.Client]:
    """The vulnerable demo bank behind ``GatewayMiddleware(**options)``."""
    app = create_app(False, settings=Settings(jwt_secret=KEY))
    doc = load(demo_file("openapi.yaml"))
    verifier = JwtVerifier([JwtKey(KEY, ("HS256",))], issuer=ISSUER, require_audience=False)
    options.setdefault("authenticators", {"bearerAuth": verifier})
    wrapped = GatewayMiddleware(app, doc, **options)
    with serve_app(wrapped) as url, httpx.Client(base_url=url) as client:
        yield client
