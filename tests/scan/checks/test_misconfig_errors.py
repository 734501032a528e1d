"""stack-trace-exposed against the demo bank and a small app that fails on huge numbers."""

from __future__ import annotations

import traceback

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from apiward.core import Document
from tests.scan.conftest import openapi, scan_demo, scan_spec, served

CHECK = "stack-trace-exposed"


def test_fires_on_the_vulnerable_demo(demo_doc: Document, vulnerable: str) -> None:
    [finding] = scan_demo(demo_doc, vulnerable, CHECK).findings
    assert finding.rule_id == CHECK and finding.confidence == "certain"
    assert "Traceback" in (finding.evidence[0].response or "")


def test_quiet_on_the_secure_demo(demo_doc: Document, secure: str) -> None:
    assert scan_demo(demo_doc, secure, CHECK).findings == []


SPEC = openapi(
    {
        "/items": {
            "get": {
                "parameters": [{"name": "limit", "in": "query", "schema": {"type": "integer"}}],
                "responses": {"200": {"description": "ok"}},
            }
        }
    }
)


def _app(fixed: bool) -> Starlette:
    async def items(request: Request) -> Response:
        try:
            limit = int(request.query_params.get("limit", "10"))
            if limit > 2**63:
                raise OverflowError("Python int too large to convert to C long")
        except (ValueError, OverflowError):
            if fixed:
                return JSONResponse({"error": "limit must be a small integer"}, status_code=400)
            return JSONResponse({"trace": traceback.format_exc()}, status_code=500)
        return JSONResponse({"items": [], "limit": limit})

    return Starlette(routes=[Route("/items", items)])


app = served(_app, False, True, ids=["vulnerable", "fixed"])


def test_a_query_parameter_past_any_integer(app: tuple[bool, str]) -> None:
    fixed, url = app
    result = scan_spec(SPEC, url, CHECK)
    assert [f.rule_id for f in result.findings] == ([] if fixed else [CHECK])
