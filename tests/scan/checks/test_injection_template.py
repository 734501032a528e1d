"""ssti on the demo bank (it has none) and on small Jinja2 apps."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import jinja2
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from apiward.config import IdentitySection
from apiward.core import Document, from_dict
from apiward.demo import serve_app
from apiward.scan import ScanOptions, ScanResult, scan
from tests.scan.conftest import scan_demo

CHECK = "ssti"


def test_quiet_on_both_demos(demo_doc: Document, vulnerable: str, secure: str) -> None:
    assert scan_demo(demo_doc, vulnerable, CHECK).findings == []
    assert scan_demo(demo_doc, secure, CHECK).findings == []


SPEC: dict[str, Any] = {
    "openapi": "3.0.3",
    "info": {"title": "t", "version": "1"},
    "components": {"securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}}},
    "security": [{"bearer": []}],
    "paths": {"/cards/preview": {"post": {
        "requestBody": {"content": {"application/json": {"schema": {
            "type": "object", "required": ["recipient"],
            "properties": {"recipient": {"type": "string"}, "amount": {"type": "integer"}},
        }}}},
        "responses": {"200": {"description": "ok"}},
    }}},
}  # fmt: skip


def _app(mode: str) -> Starlette:
    env = jinja2.Environment(autoescape=True)

    async def preview(request: Request) -> Response:
        if request.headers.get("authorization") != "Bearer dana-token":
            return JSONResponse({"error": "unauthorized"}, 401)
        recipient = str((await request.json()).get("recipient", ""))
        if mode == "echo":  # reflects the raw input, evaluates nothing
            return JSONResponse({"error": f"unknown recipient {recipient!r}"}, 400)
        if mode == "vulnerable":
            text = env.from_string("Dear " + recipient + ", happy birthday!").render()
        elif mode == "mako-like":  # ${a*b} is evaluated, and "<%" is a syntax error
            if "<%" in recipient:
                return JSONResponse({"error": "internal error"}, 500)
            text = re.sub(r"\$\{(\d+)\*(\d+)\}", lambda m: str(int(m[1]) * int(m[2])), recipient)
        else:
            text = env.from_string("Dear {{ r }}, happy birthday!").render(r=recipient)
        return JSONResponse({"text": text})

    return Starlette(routes=[Route("/cards/preview", preview, methods=["POST"])])


@pytest.fixture(params=["vulnerable", "mako-like", "echo", "fixed"])
def app(request: pytest.FixtureRequest) -> Iterator[tuple[str, str]]:
    with serve_app(_app(request.param)) as url:
        yield request.param, url


def _scan(url: str) -> ScanResult:
    dana = IdentitySection(headers={"Authorization": "Bearer dana-token"})
    options = ScanOptions(target=url, identities={"dana": dana}, select=(CHECK,), canary=False)
    result = scan(from_dict(SPEC), options)
    assert not result.errors, result.errors
    return result


def test_small_apps(app: tuple[str, str]) -> None:
    mode, url = app
    findings = _scan(url).findings
    if mode in ("echo", "fixed"):
        assert findings == []
        return
    [finding] = findings
    assert finding.usages[0].key == "POST /cards/preview" and finding.key == "recipient"
    syntax = "{{a*b}}" if mode == "vulnerable" else "${a*b}"
    assert syntax in finding.message and finding.confidence == "certain"
    assert len(finding.evidence) == 2
