"""mass-assignment: the demo bank's profile and account updates, and a POST-on-object app."""

from __future__ import annotations

from typing import Any

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from apiward.config import IdentitySection
from apiward.core import Document, Severity
from tests.scan.conftest import demo_auth, openapi, scan_demo, scan_spec, served

CHECK = "mass-assignment"


def _state(url: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """Alice's profile and her account 1, as she sees them."""
    auth = demo_auth(url, "alice", "Alice-Passw0rd!")
    me = httpx.get(f"{url}/users/me", headers=auth).json()
    return me, httpx.get(f"{url}/accounts/1", headers=auth).json()


def test_fires_on_the_vulnerable_demo_and_restores(demo_doc: Document, vulnerable: str) -> None:
    before = _state(vulnerable)
    findings = scan_demo(demo_doc, vulnerable, CHECK).findings
    by_op = {f.usages[0].key: f for f in findings}
    assert set(by_op) == {"PATCH /users/me", "PATCH /accounts/{id}"}
    role = by_op["PATCH /users/me"]
    assert "role" in role.message and "'admin'" in role.message
    assert role.severity is Severity.CRITICAL and role.confidence == "certain"
    assert "balance" in by_op["PATCH /accounts/{id}"].message
    assert _state(vulnerable) == before  # role, balance and the rest written back


def test_quiet_on_the_secure_demo(demo_doc: Document, secure: str) -> None:
    before = _state(secure)
    assert scan_demo(demo_doc, secure, CHECK).findings == []
    assert _state(secure) == before


# ---------------------------------------------------------------- an echo is no proof
SPEC: dict[str, Any] = {
    "openapi": "3.0.3",
    "info": {"title": "t", "version": "1"},
    "components": {
        "securitySchemes": {"key": {"type": "apiKey", "in": "header", "name": "X-Key"}},
        "schemas": {
            "Profile": {
                "type": "object",
                "properties": {
                    "name": {"type": "string"},
                    "plan": {"type": "string", "enum": ["free", "premium"]},
                    "verified": {"type": "boolean", "readOnly": True},
                },
            }
        },
    },
    "security": [{"key": []}],
    "paths": {
        "/profile": {
            "get": {"responses": {"200": {"description": "ok", "content": {"application/json": {
                "schema": {"$ref": "#/components/schemas/Profile"}}}}}},
            "post": {
                "requestBody": {"content": {"application/json": {"schema": {
                    "type": "object", "properties": {"name": {"type": "string"}}}}}},
                "responses": {"200": {"description": "ok"}},
            },
        }
    },
}  # fmt: skip


def _app(kind: str) -> Starlette:
    """``binds``: every field sticks; ``echoes``: the answer echoes, nothing is stored."""
    stored: dict[str, Any] = {"name": "Carol", "plan": "free", "verified": False}

    async def get(request: Request) -> Response:
        return JSONResponse(stored)

    async def post(request: Request) -> Response:
        data = await request.json()
        if kind == "binds":
            stored.update(data)
            return JSONResponse(stored)
        stored["name"] = data.get("name", stored["name"])
        return JSONResponse({**stored, **data})

    return Starlette(
        routes=[Route("/profile", get, methods=["GET"]), Route("/profile", post, methods=["POST"])]
    )


profile_app = served(_app, "binds", "echoes")


def test_only_a_value_that_persisted_counts(profile_app: tuple[str, str]) -> None:
    kind, url = profile_app
    identities = {"carol": IdentitySection(role="user", headers={"X-Key": "k"})}
    result = scan_spec(SPEC, url, CHECK, identities=identities)
    if kind == "echoes":
        assert result.findings == []
        return
    (finding,) = result.findings
    assert "plan: 'free' -> 'premium'" in finding.message and "verified" in finding.message
    after = httpx.get(f"{url}/profile").json()  # (the crawl's POST renamed Carol: not ours)
    assert (after["plan"], after["verified"]) == ("free", False)


# ---------------------------------------------------------------- a sign-up born admin
SIGNUP_SPEC = openapi({
    "/users/v1/register": {"post": {
        "requestBody": {"content": {"application/json": {"schema": {
            "type": "object", "required": ["username", "password", "email"],
            "properties": {"username": {"type": "string"}, "password": {"type": "string"},
                           "email": {"type": "string", "format": "email"}},
        }}}},
        "responses": {"200": {"description": "ok"}},
    }},
    "/users/v1/_debug": {"get": {"responses": {"200": {"description": "ok"}}}},
})  # fmt: skip


def _signup_app(fixed: bool) -> Starlette:
    users: list[dict[str, Any]] = [
        {"username": "name1", "email": "mail1@mail.com", "admin": False},
        {"username": "name2", "email": "mail2@mail.com", "admin": False},
        {"username": "admin", "email": "admin@mail.com", "admin": True},
    ]

    async def register(request: Request) -> Response:
        data = await request.json()
        user = {"username": data["username"], "email": data["email"], "admin": False}
        if not fixed:
            user["admin"] = bool(data.get("admin", False))
        users.append(user)
        return JSONResponse({"status": "success", "message": "Successfully registered."})

    async def debug(request: Request) -> Response:
        return JSONResponse({"users": users})

    return Starlette(
        routes=[
            Route("/users/v1/register", register, methods=["POST"]),
            Route("/users/v1/_debug", debug),
        ]
    )


signup_app = served(_signup_app, False, True, ids=["vulnerable", "fixed"])


def test_a_sign_up_that_keeps_admin(signup_app: tuple[bool, str]) -> None:
    fixed, url = signup_app
    result = scan_spec(SIGNUP_SPEC, url, CHECK)
    if fixed:
        assert result.findings == []
        return
    (finding,) = result.findings
    assert finding.usages[0].key == "POST /users/v1/register"
    assert "admin: True" in finding.message and finding.severity is Severity.CRITICAL
