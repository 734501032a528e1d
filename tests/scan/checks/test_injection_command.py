"""command-injection on the demo bank and on small apps with a pretend shell (no command runs)."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Iterator

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from apiward.config import IdentitySection
from apiward.core import Document
from apiward.scan import ScanResult
from apiward.scan.checks import injection_command
from tests.scan.conftest import X_KEY, openapi, scan_demo, scan_spec, serve_param

CHECK = "command-injection"


def test_fires_on_the_vulnerable_demo(demo_doc: Document, vulnerable: str) -> None:
    [finding] = scan_demo(demo_doc, vulnerable, CHECK).findings
    assert [u.key for u in finding.usages] == ["POST /tools/ping"]
    assert finding.key == "host" and finding.confidence == "certain"
    assert "uid=" in finding.message


def test_quiet_on_the_secure_demo(demo_doc: Document, secure: str) -> None:
    assert scan_demo(demo_doc, secure, CHECK).findings == []


SPEC = openapi({"/diagnostics": {"post": {
    "requestBody": {"content": {"application/json": {"schema": {
        "type": "object", "required": ["hostname", "note"],
        "properties": {"hostname": {"type": "string"}, "note": {"type": "string"}},
    }}}},
    "responses": {"200": {"description": "ok"}},
}}}, X_KEY)  # fmt: skip
_SLEEP = re.compile(r"(?:;|\||`|\$\()\s*sleep\s+(\d+(?:\.\d+)?)")
_ARITH = re.compile(r"(?:;|\n)\s*echo\s+(\w*)\$\(\((\d+)\*(\d+)\)\)")


def _app(mode: str) -> Starlette:
    async def diagnostics(request: Request) -> Response:
        if request.headers.get("x-key") != "k-123456":
            return JSONResponse({"error": "unauthorized"}, 401)
        host = str((await request.json()).get("hostname", ""))
        if mode == "fixed" and not re.fullmatch(r"[A-Za-z0-9.-]+", host):
            return JSONResponse({"error": "hostname must be a host name"}, 400)
        if mode == "timed" and (m := _SLEEP.search(host)):
            await asyncio.sleep(min(float(m.group(1)), 1.5))  # runs "in the background"
        if mode == "arith" and (m := _ARITH.search(host)):
            return JSONResponse({"log": f"{m.group(1)}{int(m.group(2)) * int(m.group(3))}"})
        return JSONResponse({"log": f"checked {host}"})

    return Starlette(routes=[Route("/diagnostics", diagnostics, methods=["POST"])])


@pytest.fixture(params=["timed", "arith", "fixed"])
def app(
    request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch
) -> Iterator[tuple[str, str]]:
    monkeypatch.setattr(injection_command, "_DELAY", 1.0)
    yield from serve_param(request, _app)


def _scan(url: str) -> ScanResult:
    ops = IdentitySection(headers={"X-Key": "k-123456"})
    return scan_spec(SPEC, url, CHECK, identities={"ops": ops}, canary=False)


def test_small_apps(app: tuple[str, str]) -> None:
    mode, url = app
    findings = _scan(url).findings
    if mode == "fixed":
        assert findings == []
        return
    [finding] = findings
    assert finding.usages[0].key == "POST /diagnostics" and finding.key == "hostname"
    assert finding.identity == "ops"
    if mode == "timed":
        assert "delays the answer" in finding.message and finding.confidence == "firm"
    else:
        assert re.search(r"apw\d+x\d{7,8}", finding.message)
