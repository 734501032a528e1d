"""shadow-endpoint on the demo bank and on small apps: an old version, a gated path, an SPA."""

from __future__ import annotations

from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import BaseRoute, Route
from starlette.types import ASGIApp, Receive, Scope, Send

from apiward.config import IdentitySection
from apiward.core import Document, Severity
from apiward.scan.checks.inventory_shadow import base_siblings, version_siblings
from tests.scan.conftest import scan_demo, scan_spec, served

CHECK = "shadow-endpoint"


def test_fires_on_the_vulnerable_demo(demo_doc: Document, vulnerable: str) -> None:
    findings = {f.key: f for f in scan_demo(demo_doc, vulnerable, CHECK).findings}
    assert set(findings) == {"/api/v1/users", "/debug"}
    assert all(f.severity is Severity.CRITICAL for f in findings.values())


def test_quiet_on_the_secure_demo(demo_doc: Document, secure: str) -> None:
    assert scan_demo(demo_doc, secure, CHECK).findings == []


def test_version_siblings() -> None:
    assert version_siblings(["/v2/items/{id}"]) == ["/v1/items", "/v3/items"]
    assert "/api/v1/users" in version_siblings(["/users/{id}"])
    assert base_siblings("/api/v3", ["/items"]) == [
        "/api/v2/items",
        "/api/v4/items",
        "/api/v1/items",
    ]
    assert base_siblings("/api", ["/items"]) == []


SPEC: dict[str, Any] = {
    "openapi": "3.0.3",
    "info": {"title": "t", "version": "2"},
    "components": {"securitySchemes": {"key": {"type": "apiKey", "in": "header", "name": "X-Key"}}},
    "security": [{"key": []}],
    "paths": {"/api/v2/items": {"get": {"responses": {"200": {"description": "ok"}}}}},
}
ITEMS = {"items": [{"id": 1, "name": "lamp"}]}


def _app(kind: str) -> Starlette:
    async def items(request: Request) -> Response:
        return JSONResponse(ITEMS)

    async def internal(request: Request) -> Response:
        if request.headers.get("x-key") != "k":
            return JSONResponse({"error": "who are you"}, status_code=401)
        return JSONResponse({"users": [{"id": 1, "name": "ann"}]})

    async def index(request: Request) -> Response:
        return HTMLResponse("<html><body><div id=app></div></body></html>")

    routes: list[BaseRoute] = [Route("/api/v2/items", items)]
    if kind in ("vulnerable", "locked"):
        routes += [Route("/api/v1/items", items), Route("/internal/users", internal)]
    if kind == "spa":
        routes.append(Route("/{rest:path}", index))
    app = Starlette(routes=routes)
    if kind == "locked":
        app.add_middleware(_Locked)
    return app


class _Locked:
    """Asks for credentials before routing: anonymous callers learn nothing."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and (b"x-key", b"k") not in scope["headers"]:
            await JSONResponse({"error": "log in"}, status_code=401)(scope, receive, send)
            return
        await self.app(scope, receive, send)


app = served(_app, "vulnerable", "fixed", "spa", "locked")


def test_small_apps(app: tuple[str, str]) -> None:
    kind, url = app
    identities = {"carol": IdentitySection(headers={"X-Key": "k"})}
    result = scan_spec(SPEC, url, CHECK, identities=identities, canary=False)
    found = {f.key: f.identity for f in result.findings}
    if kind == "vulnerable":
        assert found == {"/api/v1/items": "anonymous", "/internal/users": "carol"}
    elif kind == "locked":
        assert found == {"/api/v1/items": "carol", "/internal/users": "carol"}
    else:
        assert found == {}
