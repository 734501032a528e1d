"""path-traversal on the demo bank and on a small app with a pretend file system."""

from __future__ import annotations

import posixpath

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from apiward.core import Document
from apiward.scan import ScanResult
from tests.scan.conftest import openapi, scan_demo, scan_spec, served

CHECK = "path-traversal"


def test_fires_on_the_vulnerable_demo(demo_doc: Document, vulnerable: str) -> None:
    [finding] = scan_demo(demo_doc, vulnerable, CHECK).findings
    assert [u.key for u in finding.usages] == ["GET /statements/download"]
    assert finding.key == "file" and finding.identity in ("alice", "bob")
    assert "root:x:0:0:" in finding.message


def test_quiet_on_the_secure_demo(demo_doc: Document, secure: str) -> None:
    assert scan_demo(demo_doc, secure, CHECK).findings == []


SPEC = openapi({
    "/docs/{name}": {"get": {
        "parameters": [{"name": "name", "in": "path", "required": True,
                        "schema": {"type": "string", "example": "guide.txt"}}],
        "responses": {"200": {"description": "ok"}},
    }},
    "/notes": {"post": {
        "requestBody": {"content": {"application/json": {"schema": {
            "type": "object", "properties": {"filename": {"type": "string"}},
        }}}},
        "responses": {"201": {"description": "ok"}},
    }},
})  # fmt: skip
FILES = {
    "/srv/docs/guide.txt": "How to use the service.\n",
    "/etc/passwd": "root:x:0:0:root:/root:/bin/bash\ndaemon:x:1:1::/:/usr/sbin/nologin\n",
}


def _app(mode: str) -> Starlette:
    written: list[str] = []

    async def doc(request: Request) -> Response:
        name = request.path_params["name"]
        if mode == "fixed" and posixpath.basename(name) != name:
            return JSONResponse({"error": "bad name"}, 400)
        # a filter that removes "../" once: "....//" survives it as "../"
        cleaned = name.replace("../", "")
        content = FILES.get(posixpath.normpath(posixpath.join("/srv/docs", cleaned)))
        return PlainTextResponse(content) if content else JSONResponse({"error": "no"}, 404)

    async def notes(request: Request) -> Response:
        # a write with a file name: never probed, whatever the app does with it
        written.append(str((await request.json()).get("filename")))
        return JSONResponse({"saved": written[-1]}, 201)

    return Starlette(
        routes=[Route("/docs/{name:path}", doc), Route("/notes", notes, methods=["POST"])]
    )


app = served(_app, "filtered", "fixed")


def _scan(url: str) -> ScanResult:
    return scan_spec(SPEC, url, CHECK, canary=False)


def test_small_apps(app: tuple[str, str]) -> None:
    mode, url = app
    findings = _scan(url).findings
    if mode == "fixed":
        assert findings == []
        return
    [finding] = findings
    assert finding.usages[0].key == "GET /docs/{name}" and finding.key == "name"
    assert finding.curl is not None and "....%2F%2F" in finding.curl
