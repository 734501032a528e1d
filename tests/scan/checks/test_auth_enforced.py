"""auth-not-enforced on the demo bank (quiet in both modes) and on small apps."""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Route

from apiward.config import IdentitySection
from apiward.core import Document
from apiward.scan import ScanResult
from tests.scan.conftest import BEARER, openapi, scan_demo, scan_spec, served

CHECK = "auth-not-enforced"


def test_quiet_on_both_demos(demo_doc: Document, vulnerable: str, secure: str) -> None:
    # the demo's flaws are in token handling, not in missing checks
    assert scan_demo(demo_doc, vulnerable, CHECK).findings == []
    assert scan_demo(demo_doc, secure, CHECK).findings == []


SPEC = openapi({
    "/notes": {"get": {"responses": {"200": {"description": "ok"}}}},
    "/notes/{id}": {
        "parameters": [{"name": "id", "in": "path", "required": True,
                        "schema": {"type": "integer"}}],
        "get": {"responses": {"200": {"description": "ok"}}},
    },
    "/status": {"get": {"security": [], "responses": {"200": {"description": "ok"}}}},
}, BEARER)  # fmt: skip
NOTES = [{"id": 1, "text": "carol's secret"}, {"id": 2, "text": "carol's other secret"}]


def _app(mode: str) -> Starlette:
    def allowed(request: Request, strict: bool) -> bool:
        auth = request.headers.get("authorization", "")
        if mode == "open" and not strict:
            return True
        if mode == "any-token":
            return auth.lower().startswith("bearer ")
        return auth == "Bearer carol-token"

    def denied() -> Response:
        if mode == "soft-200":  # a 200 that is really an error or a login page
            return HTMLResponse("<html><body>Please log in</body></html>")
        return JSONResponse({"error": "unauthorized"}, status_code=401)

    async def notes(request: Request) -> Response:
        return JSONResponse(NOTES) if allowed(request, strict=False) else denied()

    async def note(request: Request) -> Response:
        # the detail view is guarded even in the "open" app: only the listing leaks
        return JSONResponse(NOTES[0]) if allowed(request, strict=True) else denied()

    async def status(request: Request) -> Response:
        return JSONResponse({"ok": True})

    return Starlette(
        routes=[Route("/notes", notes), Route("/notes/{id}", note), Route("/status", status)]
    )


app = served(_app, "open", "any-token", "soft-200", "fixed")


def _scan(url: str) -> ScanResult:
    carol = IdentitySection(headers={"Authorization": "Bearer carol-token"})
    return scan_spec(SPEC, url, CHECK, identities={"carol": carol})


def test_small_app(app: tuple[str, str]) -> None:
    mode, url = app
    findings = _scan(url).findings
    if mode == "open":
        [finding] = findings
        assert [u.key for u in finding.usages] == ["GET /notes"]
        assert finding.key == "anonymous" and finding.confidence == "certain"
    elif mode == "any-token":
        keys = sorted((f.usages[0].key, f.key) for f in findings)
        assert keys == [
            ("GET /notes", "malformed-credentials"),
            ("GET /notes/{id}", "malformed-credentials"),
        ]
        assert "x.y.z" in findings[0].message
    else:
        assert findings == []
