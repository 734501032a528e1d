"""page-size-unbounded: the demo bank's transfer listing, and apps that cap or do not."""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from apiward.core import Document
from tests.scan.conftest import openapi, scan_demo, scan_spec, served

CHECK = "page-size-unbounded"


def test_fires_on_the_vulnerable_demo(demo_doc: Document, vulnerable: str) -> None:
    (finding,) = scan_demo(demo_doc, vulnerable, CHECK).findings
    assert finding.usages[0].key == "GET /transfers" and finding.key == "limit"
    assert "field limit" in finding.message and finding.confidence == "firm"


def test_quiet_on_the_secure_demo(demo_doc: Document, secure: str) -> None:
    assert scan_demo(demo_doc, secure, CHECK).findings == []


# ---------------------------------------------------------------- many items, no echo
SPEC = openapi({
    "/products": {"get": {
        "parameters": [{"name": "per_page", "in": "query",
                        "schema": {"type": "integer", "minimum": 1, "maximum": 50}}],
        "responses": {"200": {"description": "ok"}},
    }},
})  # fmt: skip
PRODUCTS = [{"id": i, "name": f"p{i}"} for i in range(1, 301)]


def _app(kind: str) -> Starlette:
    """``unbounded``: serves what is asked; ``clamps``: at most 50, silently."""

    async def products(request: Request) -> Response:
        size = int(request.query_params.get("per_page", "20"))
        if kind == "clamps":
            size = min(size, 50)
        return JSONResponse({"data": PRODUCTS[:size]})

    return Starlette(routes=[Route("/products", products)])


shop = served(_app, "unbounded", "clamps")


def test_more_items_than_the_declared_maximum(shop: tuple[str, str]) -> None:
    kind, url = shop
    result = scan_spec(SPEC, url, CHECK)
    if kind == "clamps":
        assert result.findings == []
        return
    (finding,) = result.findings
    assert "300 items, more than the declared maximum 50" in finding.message
    assert finding.confidence == "certain"
