"""ssti on the demo bank (it has none) and on small Jinja2 apps."""

from __future__ import annotations

import re

import jinja2
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from apiward.config import IdentitySection
from apiward.core import Document
from apiward.scan import ScanResult
from tests.scan.conftest import BEARER, openapi, scan_demo, scan_spec, served

CHECK = "ssti"


def test_quiet_on_both_demos(demo_doc: Document, vulnerable: str, secure: str) -> None:
    assert scan_demo(demo_doc, vulnerable, CHECK).findings == []
    assert scan_demo(demo_doc, secure, CHECK).findings == []


SPEC = openapi({"/cards/preview": {"post": {
    "requestBody": {"content": {"application/json": {"schema": {
        "type": "object", "required": ["recipient"],
        "properties": {"recipient": {"type": "string"}, "amount": {"type": "integer"}},
    }}}},
    "responses": {"200": {"description": "ok"}},
}}}, BEARER)  # fmt: skip


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


app = served(_app, "vulnerable", "mako-like", "echo", "fixed")


def _scan(url: str) -> ScanResult:
    dana = IdentitySection(headers={"Authorization": "Bearer dana-token"})
    return scan_spec(SPEC, url, CHECK, identities={"dana": dana}, canary=False)


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
