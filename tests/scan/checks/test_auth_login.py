"""login-user-enumeration, login-no-lockout, weak-password-accepted: demo bank, small apps."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from apiward.config import IdentitySection, LoginSection
from apiward.core import Document, Finding
from apiward.demo import Settings, serve, serve_app
from apiward.scan import ScanResult
from tests.scan.conftest import DEMO_SPEC, openapi, scan_demo, scan_spec, served

ENUM, LOCKOUT, WEAK = "login-user-enumeration", "login-no-lockout", "weak-password-accepted"


def _by_check(result: ScanResult) -> dict[str, Finding]:
    return {f.rule_id: f for f in result.findings}


@pytest.fixture(scope="module")
def vulnerable_findings() -> dict[str, Finding]:
    from apiward.core import load

    with serve(False, settings=Settings()) as url:
        return _by_check(scan_demo(load(DEMO_SPEC), url, ENUM, LOCKOUT, WEAK))


def test_enumeration_fires_on_the_vulnerable_login(vulnerable_findings: dict[str, Finding]) -> None:
    finding = vulnerable_findings[ENUM]
    assert [u.key for u in finding.usages] == ["POST /auth/login"]
    assert finding.confidence == "certain" and "404" in finding.message


def test_no_lockout_fires_on_the_vulnerable_login(vulnerable_findings: dict[str, Finding]) -> None:
    finding = vulnerable_findings[LOCKOUT]
    assert [u.key for u in finding.usages] == ["POST /auth/login"]
    # the throwaway account it registered was hammered, not a configured identity
    first, last = (e.request or "" for e in finding.evidence[:2])
    assert "apiward_" in first and '"alice"' not in last


def test_weak_password_fires_on_the_vulnerable_signup(
    vulnerable_findings: dict[str, Finding],
) -> None:
    finding = vulnerable_findings[WEAK]
    assert [u.key for u in finding.usages] == ["POST /auth/register"]
    assert finding.confidence == "certain" and "'1'" in finding.message


def test_quiet_on_the_secure_demo(demo_doc: Document, secure: str) -> None:
    assert scan_demo(demo_doc, secure, ENUM, LOCKOUT, WEAK).findings == []


def test_lockout_on_the_secure_demo_hits_the_lock_and_leaves_the_identities_alone(
    demo_doc: Document, tmp_path: Path
) -> None:
    # no per-address login limit: the guesses run until the account lock stops them
    log = tmp_path / "requests.ndjson"
    with serve(True, settings=Settings(login_burst=1000)) as url:
        result = scan_demo(demo_doc, url, LOCKOUT, request_log=str(log))
        assert result.findings == []
        lines = [json.loads(line) for line in log.read_text().splitlines()]
        assert any(r["status"] == 429 and "failed attempts" in r["response_body"] for r in lines)
        for user, password in (("alice", "Alice-Passw0rd!"), ("bob", "Bob-Passw0rd!!")):
            body = {"username": user, "password": password}
            assert httpx.post(f"{url}/auth/login", json=body).status_code == 200


# ---------------------------------------------------------------- a login that words it


SPEC = openapi({
    "/api/session": {
        "post": {
            "operationId": "signIn",
            "requestBody": {"content": {"application/json": {"schema": {
                "type": "object",
                "properties": {"email": {"type": "string"}, "password": {"type": "string"}},
            }}}},
            "responses": {"200": {"description": "ok"}, "401": {"description": "no"}},
        }
    }
})  # fmt: skip
USERS = {"carol@example.com": "Carol-Passw0rd!"}


def _login_app(mode: str) -> Starlette:
    leaky = mode == "leaky"

    async def login(request: Request) -> Response:
        data = await request.json()
        email, password = data.get("email"), data.get("password")
        if USERS.get(email) == password:
            return JSONResponse({"token": "t-" + uuid.uuid4().hex})
        message = "wrong password" if leaky and email in USERS else "invalid email or password"
        noise = {"request_id": str(uuid.uuid4()), "at": datetime.now(UTC).isoformat()}
        return JSONResponse({"error": message, **noise}, status_code=401)

    return Starlette(routes=[Route("/api/session", login, methods=["POST"])])


login_app = served(_login_app, "leaky", "fixed")


def test_enumeration_by_message_not_by_noise(login_app: tuple[str, str]) -> None:
    kind, url = login_app
    login = LoginSection(
        operation="POST /api/session",
        body={"email": "carol@example.com", "password": "Carol-Passw0rd!"},
        token="body.token",
    )
    result = scan_spec(SPEC, url, ENUM, identities={"carol": IdentitySection(login=login)})
    if kind == "leaky":
        [finding] = result.findings
        assert finding.confidence == "firm" and "different message" in finding.message
    else:
        assert result.findings == []


# ---------------------------------------------------------------- 200 for everything, VAmPI-like

VAMPI_SPEC = openapi({
    path: {"post": {
        "requestBody": {"content": {"application/json": {"schema": {
            "type": "object",
            "properties": {
                "username": {"type": "string"}, "password": {"type": "string"},
                **({"email": {"type": "string"}} if "register" in path else {}),
            },
        }}}},
        "responses": {"200": {"description": "ok"}},
    }}
    for path in ("/users/v1/register", "/users/v1/login")
})  # fmt: skip


def _vampi(fixed: bool) -> Starlette:
    users = {"carol": "Carol-Passw0rd!"}
    failures: dict[str, int] = {}

    def fail(message: str) -> Response:
        return JSONResponse({"status": "fail", "message": message})

    async def register(request: Request) -> Response:
        data = await request.json()
        if fixed and len(data.get("password", "")) < 12:
            return fail("password too short")  # an error in a 200, as VAmPI does
        users[data["username"]] = data["password"]
        return JSONResponse({"status": "success", "message": "registered"})

    async def login(request: Request) -> Response:
        data = await request.json()
        name, password = data.get("username", ""), data.get("password")
        if fixed and failures.get(name, 0) >= 5:
            return fail("Invalid credentials.")
        if users.get(name) == password:
            return JSONResponse({"auth_token": "t-" + uuid.uuid4().hex})
        failures[name] = failures.get(name, 0) + 1
        if fixed or name in users:
            return fail("Invalid credentials." if fixed else "Password is not correct.")
        return fail("Username does not exist")

    return Starlette(
        routes=[
            Route("/users/v1/register", register, methods=["POST"]),
            Route("/users/v1/login", login, methods=["POST"]),
        ]
    )


@pytest.mark.parametrize("fixed", [False, True])
def test_apis_that_answer_200_to_everything(fixed: bool) -> None:
    login = LoginSection(
        operation="POST /users/v1/login",
        body={"username": "carol", "password": "Carol-Passw0rd!"},
        token="body.auth_token",
    )
    with serve_app(_vampi(fixed)) as url:
        result = scan_spec(
            VAMPI_SPEC,
            url,
            ENUM,
            LOCKOUT,
            WEAK,
            identities={"carol": IdentitySection(login=login)},
        )
    found = {f.rule_id: f for f in result.findings}
    if fixed:
        assert found == {}
    else:
        assert set(found) == {ENUM, LOCKOUT, WEAK}
        assert found[WEAK].confidence == "certain"
