"""rate-limit-missing: login bursts against the demo bank and an app that advertises a limit."""

from __future__ import annotations

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from apiward.core import Document
from tests.scan.conftest import demo_auth, openapi, scan_demo, scan_spec, served

CHECK = "rate-limit-missing"


def _failed_logins(url: str) -> dict[str, int]:
    out = {}
    for name, password in (("alice", "Alice-Passw0rd!"), ("bob", "Bob-Passw0rd!!")):
        me = httpx.get(f"{url}/users/me", headers=demo_auth(url, name, password)).json()
        out[name] = me["failed_logins"]
    return out


def test_fires_on_the_vulnerable_demo_with_throwaway_users(
    demo_doc: Document, vulnerable: str
) -> None:
    (finding,) = scan_demo(demo_doc, vulnerable, CHECK).findings
    assert finding.usages[0].key == "POST /auth/login"
    assert "25 failed logins" in finding.message and finding.confidence == "firm"
    assert "apiward_rl_" in str(finding.evidence[0].request)
    assert _failed_logins(vulnerable) == {"alice": 0, "bob": 0}  # no identity was guessed at


def test_quiet_on_the_secure_demo(demo_doc: Document, secure: str) -> None:
    assert scan_demo(demo_doc, secure, CHECK).findings == []


# ---------------------------------------------------------------- an advertised limit
SPEC = openapi({
    "/v1/sessions": {"post": {
        "operationId": "signIn",
        "requestBody": {"content": {"application/json": {"schema": {
            "type": "object", "required": ["email", "password"],
            "properties": {"email": {"type": "string", "format": "email"},
                           "password": {"type": "string"}},
        }}}},
        "responses": {"200": {"description": "ok"}, "401": {"description": "no"}},
    }},
})  # fmt: skip


def _app(kind: str) -> Starlette:
    """``open``: no limit; ``headers``: a limit of 100 a minute, said in headers."""

    async def sessions(request: Request) -> Response:
        headers = (
            {"RateLimit-Limit": "100", "RateLimit-Remaining": "99"} if kind == "headers" else {}
        )
        return JSONResponse({"error": "invalid credentials"}, status_code=401, headers=headers)

    return Starlette(routes=[Route("/v1/sessions", sessions, methods=["POST"])])


login_app = served(_app, "open", "headers")


def test_a_login_found_from_the_spec_alone(login_app: tuple[str, str]) -> None:
    kind, url = login_app
    result = scan_spec(SPEC, url, CHECK)
    assert [f.usages[0].key for f in result.findings] == (
        ["POST /v1/sessions"] if kind == "open" else []
    )
