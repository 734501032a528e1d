"""admin-function-exposed: the demo bank, and an app whose admin function says so in words."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from apiward.config import IdentitySection
from apiward.core import Document
from apiward.demo import serve_app
from tests.scan.conftest import X_KEY, demo_auth, openapi, scan_demo, scan_spec, served

CHECK = "admin-function-exposed"


def _usages(result: Any) -> set[str]:
    return {u.key for f in result.findings if f.rule_id == CHECK for u in f.usages}


def _roles(url: str) -> dict[str, str]:
    auth = demo_auth(url, "admin", "Admin-Passw0rd!")
    users = httpx.get(f"{url}/admin/users", headers=auth).json()
    return {u["username"]: u["role"] for u in users}


def test_fires_on_the_vulnerable_demo_and_changes_no_role(
    demo_doc: Document, vulnerable: str
) -> None:
    before = _roles(vulnerable)
    result = scan_demo(demo_doc, vulnerable, CHECK)
    assert _usages(result) == {"GET /admin/users", "PUT /admin/users/{id}/role"}
    finding = next(f for f in result.findings if f.usages[0].key == "PUT /admin/users/{id}/role")
    assert finding.confidence == "certain" and finding.identity in ("alice", "bob")
    assert _roles(vulnerable) == before


def test_quiet_on_the_secure_demo(demo_doc: Document, secure: str) -> None:
    assert _usages(scan_demo(demo_doc, secure, CHECK)) == set()


# ---------------------------------------------------------------- words only

SPEC = openapi(
    {
        "/reports": {
            "get": {
                "summary": "Revenue report (administrators only)",
                "responses": {"200": {"description": "ok"}},
            }
        },
        "/me": {"get": {"responses": {"200": {"description": "ok"}}}},
    },
    X_KEY,
)
KEYS = {"k-admin": "admin", "k-user": "user"}


def _app(fixed: bool) -> Starlette:
    def role(request: Request) -> str | None:
        return KEYS.get(request.headers.get("x-key", ""))

    async def reports(request: Request) -> Response:
        who = role(request)
        if who is None:
            return JSONResponse({"error": "log in"}, status_code=401)
        if fixed and who != "admin":
            return JSONResponse({"error": "forbidden"}, status_code=403)
        return JSONResponse({"revenue": 1234, "currency": "EUR"})

    async def me(request: Request) -> Response:
        return JSONResponse({"role": role(request)})

    return Starlette(routes=[Route("/reports", reports), Route("/me", me)])


words_app = served(_app, False, True, ids=["vulnerable", "fixed"])


def test_an_operation_marked_admin_only_in_its_summary(words_app: tuple[bool, str]) -> None:
    fixed, url = words_app
    identities = {
        "root": IdentitySection(role="admin", headers={"X-Key": "k-admin"}),
        "carol": IdentitySection(role="user", headers={"X-Key": "k-user"}),
    }
    result = scan_spec(SPEC, url, CHECK, identities=identities, canary=False)
    assert _usages(result) == (set() if fixed else {"GET /reports"})


# ---------------------------------------------------------------- admin DELETE

NOTES_SPEC = openapi(
    {
        "/notes": {
            "get": {"responses": {"200": {"description": "ok"}}},
            "post": {
                "requestBody": {
                    "content": {
                        "application/json": {
                            "schema": {
                                "type": "object",
                                "required": ["text"],
                                "properties": {"text": {"type": "string", "maxLength": 20}},
                            }
                        }
                    }
                },
                "responses": {"201": {"description": "ok"}},
            },
        },
        "/notes/{id}": {
            "parameters": [
                {"name": "id", "in": "path", "required": True, "schema": {"type": "integer"}}
            ],
            "get": {"responses": {"200": {"description": "ok"}}},
        },
        "/admin/notes/{id}": {
            "parameters": [
                {"name": "id", "in": "path", "required": True, "schema": {"type": "integer"}}
            ],
            "delete": {"responses": {"204": {"description": "gone"}}},
        },
    },
    X_KEY,
)


def _notes_app(fixed: bool) -> Starlette:
    notes: dict[int, dict[str, Any]] = {
        1: {"id": 1, "owner": "user", "text": "first"},
        2: {"id": 2, "owner": "admin", "text": "second"},
    }

    async def listing(request: Request) -> Response:
        who = role(request)
        if request.method == "POST":
            new = {"id": max(notes) + 1, "owner": who, "text": (await request.json())["text"]}
            notes[new["id"]] = new
            return JSONResponse(new, status_code=201)
        return JSONResponse([n for n in notes.values() if n["owner"] == who])

    async def one(request: Request) -> Response:
        note = notes.get(int(request.path_params["id"]))
        if note is None or note["owner"] != role(request):
            return JSONResponse({"error": "not found"}, status_code=404)
        return JSONResponse(note)

    async def admin_delete(request: Request) -> Response:
        if fixed and role(request) != "admin":
            return JSONResponse({"error": "forbidden"}, status_code=403)
        notes.pop(int(request.path_params["id"]), None)
        return Response(status_code=204)

    def role(request: Request) -> str | None:
        return KEYS.get(request.headers.get("x-key", ""))

    return Starlette(
        routes=[
            Route("/notes", listing, methods=["GET", "POST"]),
            Route("/notes/{id}", one),
            Route("/admin/notes/{id}", admin_delete, methods=["DELETE"]),
        ]
    )


@pytest.mark.parametrize("fixed", [False, True], ids=["vulnerable", "fixed"])
def test_an_admin_delete_on_the_callers_own_object(fixed: bool) -> None:
    identities = {
        "root": IdentitySection(role="admin", headers={"X-Key": "k-admin"}),
        "carol": IdentitySection(role="user", headers={"X-Key": "k-user"}),
    }
    with serve_app(_notes_app(fixed)) as url:
        result = scan_spec(
            NOTES_SPEC, url, "admin-delete-exposed", identities=identities, canary=False
        )
        left = httpx.get(f"{url}/notes", headers={"X-Key": "k-user"}).json()
    assert not result.errors
    if fixed:
        assert result.findings == [] and len(left) == 2
    else:
        [finding] = result.findings
        assert finding.usages[0].key == "DELETE /admin/notes/{id}"
        assert finding.confidence == "certain"
        # the scan's own note went; the user's seed note stayed
        assert [n["text"] for n in left] == ["first"]


def test_admin_delete_quiet_on_the_demo(demo_doc: Document, vulnerable: str) -> None:
    assert scan_demo(demo_doc, vulnerable, "admin-delete-exposed").findings == []
