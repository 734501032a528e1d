"""ssrf on the demo bank and on a small app that fetches URLs (loopback only)."""

from __future__ import annotations

import threading
import urllib.parse
import urllib.request

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from apiward.config import IdentitySection
from apiward.core import Document
from apiward.scan import ScanResult
from tests.scan.conftest import BEARER, openapi, scan_demo, scan_spec, served

CHECK = "ssrf"


def test_fires_on_the_vulnerable_demo(demo_doc: Document, vulnerable: str) -> None:
    found = {f.usages[0].key: f for f in scan_demo(demo_doc, vulnerable, CHECK).findings}
    assert sorted(found) == ["POST /partner/merchants/sync", "POST /users/me/avatar/import"]
    avatar, feed = found["POST /users/me/avatar/import"], found["POST /partner/merchants/sync"]
    assert avatar.severity.value == "critical" and "full-read" in avatar.message
    assert avatar.key == "url" and avatar.identity in ("alice", "bob")
    assert feed.severity.value == "high" and "blind" in feed.message
    assert feed.key == "feed_url" and feed.identity == "partner"
    assert feed.confidence == "certain"


def test_quiet_on_the_secure_demo(demo_doc: Document, secure: str) -> None:
    assert scan_demo(demo_doc, secure, CHECK).findings == []


_URL = {"type": "string", "format": "uri"}
SPEC = openapi({
    "/webhooks": {"post": {
        "requestBody": {"content": {"application/json": {"schema": {
            "type": "object", "required": ["callback", "event"],
            "properties": {"callback": {"type": "string"}, "event": {"type": "string"}},
        }}}},
        "responses": {"201": {"description": "ok"}},
    }},
    "/preview": {"get": {
        "parameters": [{"name": "link", "in": "query", "required": True, "schema": _URL}],
        "responses": {"200": {"description": "ok"}},
    }},
}, BEARER)  # fmt: skip


def _fetch(url: str) -> bytes:
    # the test app only ever calls loopback: the scan's canary, or nothing at all
    if urllib.parse.urlsplit(url).hostname != "127.0.0.1":
        return b""
    try:
        with urllib.request.urlopen(url, timeout=2) as resp:  # loopback only
            data: bytes = resp.read(4096)
            return data
    except OSError:
        return b""


def _app(mode: str) -> Starlette:
    def allowed(url: str) -> bool:
        return mode == "vulnerable" or url.startswith("https://hooks.example.com/")

    def authorised(request: Request) -> bool:
        return request.headers.get("authorization") == "Bearer gil-token"

    async def webhooks(request: Request) -> Response:
        if not authorised(request):
            return JSONResponse({"error": "unauthorized"}, 401)
        callback = str((await request.json()).get("callback", ""))
        if not allowed(callback):
            return JSONResponse({"error": "callback host not allowed"}, 400)
        # a test delivery, later and in the background: a blind SSRF
        threading.Timer(0.3, _fetch, args=(callback,)).start()
        return JSONResponse({"registered": True}, 201)

    async def preview(request: Request) -> Response:
        if not authorised(request):
            return JSONResponse({"error": "unauthorized"}, 401)
        link = request.query_params.get("link", "")
        if not allowed(link):
            return JSONResponse({"error": "link host not allowed"}, 400)
        body = await run_in_threadpool(_fetch, link)
        return JSONResponse({"title": body.decode("utf-8", "replace")[:200]})

    return Starlette(
        routes=[Route("/webhooks", webhooks, methods=["POST"]), Route("/preview", preview)]
    )


app = served(_app, "vulnerable", "fixed")


def _scan(url: str) -> ScanResult:
    gil = IdentitySection(headers={"Authorization": "Bearer gil-token"})
    return scan_spec(SPEC, url, CHECK, identities={"gil": gil})


def test_small_apps(app: tuple[str, str]) -> None:
    mode, url = app
    findings = _scan(url).findings
    if mode == "fixed":
        assert findings == []
        return
    found = {f.usages[0].key: f for f in findings}
    assert sorted(found) == ["GET /preview", "POST /webhooks"]
    assert found["GET /preview"].key == "link" and "full-read" in found["GET /preview"].message
    assert found["POST /webhooks"].key == "callback" and "blind" in found["POST /webhooks"].message
