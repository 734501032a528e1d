"""excessive-data-exposure: the demo bank's user objects, and an app with every case."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from typing import Any

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from apiward.config import IdentitySection
from apiward.core import Document, Severity
from apiward.demo import serve_app
from tests.scan.conftest import X_KEY, openapi, scan_demo, scan_spec

CHECK = "excessive-data-exposure"


def test_fires_on_the_vulnerable_demo(demo_doc: Document, vulnerable: str) -> None:
    found = {f.usages[0].key: f for f in scan_demo(demo_doc, vulnerable, CHECK).findings}
    me = found["GET /users/me"]
    assert "password_hash (password-hash)" in me.message and "ssn (ssn)" in me.message
    assert me.severity is Severity.HIGH and me.confidence == "certain"
    assert set(found) <= {"GET /users/me", "GET /admin/users"}
    assert "pbkdf2" not in str(me.evidence[0].response)  # the hash is masked in the evidence


def test_quiet_on_the_secure_demo(demo_doc: Document, secure: str) -> None:
    assert scan_demo(demo_doc, secure, CHECK).findings == []


def _b64(data: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).decode().rstrip("=")


JWT = f"{_b64({'alg': 'HS256', 'typ': 'JWT'})}.{_b64({'sub': 'carol'})}.c2lnbmF0dXJlLXNpZ24"


def _json(schema: dict[str, Any]) -> dict[str, Any]:
    return {"200": {"description": "ok", "content": {"application/json": {"schema": schema}}}}


SPEC = openapi({
    "/auth/token": {"get": {"responses": _json({"type": "object"})}},
    "/members": {"post": {
        "requestBody": {"content": {"application/json": {"schema": {
            "type": "object", "required": ["username", "password"],
            "properties": {"username": {"type": "string"}, "password": {"type": "string"}},
        }}}},
        "responses": _json({"type": "object"}),
    }},
    "/profile": {"get": {"responses": _json(
        {"type": "object", "properties": {"name": {"type": "string"}}})}},
    "/settings": {"get": {"responses": _json({
        "type": "object", "additionalProperties": False,
        "properties": {"theme": {"type": "string"}}})}},
    "/notes": {"get": {"responses": _json({
        "type": "object", "additionalProperties": True,
        "properties": {"text": {"type": "string"}}})}},
}, X_KEY)  # fmt: skip


def _app() -> Starlette:
    async def token(request: Request) -> Response:
        return JSONResponse({"access_token": JWT, "token_type": "Bearer"})

    async def members(request: Request) -> Response:
        return JSONResponse(await request.json(), status_code=201)  # the sign-up echo

    async def profile(request: Request) -> Response:
        return JSONResponse({"name": "Carol", "card_number": "4111 1111 1111 1111"})

    async def settings(request: Request) -> Response:
        return JSONResponse({"theme": "dark", "beta": "on"})

    async def notes(request: Request) -> Response:
        return JSONResponse({"text": "hi", "pinned": "yes"})

    return Starlette(
        routes=[
            Route("/auth/token", token),
            Route("/members", members, methods=["POST"]),
            Route("/profile", profile),
            Route("/settings", settings),
            Route("/notes", notes),
        ]
    )


@pytest.fixture
def app_url() -> Iterator[str]:
    with serve_app(_app()) as url:
        yield url


def test_secrets_and_undeclared_fields_not_tokens_or_echoes(app_url: str) -> None:
    identities = {"carol": IdentitySection(role="user", headers={"X-Key": "k"})}
    result = scan_spec(SPEC, app_url, CHECK, identities=identities)
    found = {f.usages[0].key: f for f in result.findings}
    assert set(found) == {"GET /profile", "GET /settings"}
    profile = found["GET /profile"]
    assert "card_number (card)" in profile.message and profile.severity is Severity.HIGH
    settings = found["GET /settings"]
    assert "beta" in settings.message and settings.severity is Severity.LOW
    assert settings.confidence == "firm"
