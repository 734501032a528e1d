"""cors-misconfigured against the demo bank, and the verdict on header sets."""

from __future__ import annotations

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from apiward.core import Document, Severity
from apiward.scan.checks.misconfig_cors import cors_verdict
from tests.scan.conftest import openapi, scan_demo, scan_spec, served

CHECK = "cors-misconfigured"


def test_fires_on_the_vulnerable_demo(demo_doc: Document, vulnerable: str) -> None:
    findings = scan_demo(demo_doc, vulnerable, CHECK).findings
    assert [(f.rule_id, f.severity) for f in findings] == [(CHECK, Severity.HIGH)]
    assert "https://evil.example" in findings[0].message and "null" in findings[0].message


def test_quiet_on_the_secure_demo(demo_doc: Document, secure: str) -> None:
    assert scan_demo(demo_doc, secure, CHECK).findings == []


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ({"Access-Control-Allow-Origin": "https://evil.example",
          "Access-Control-Allow-Credentials": "true"}, Severity.HIGH),
        ({"Access-Control-Allow-Origin": "https://evil.example"}, Severity.LOW),
        ({"Access-Control-Allow-Origin": "*", "Access-Control-Allow-Credentials": "true"},
         Severity.LOW),
        ({"Access-Control-Allow-Origin": "*"}, None),
        ({"Access-Control-Allow-Origin": "https://app.example",
          "Access-Control-Allow-Credentials": "true"}, None),
        ({}, None),
    ],
)  # fmt: skip
def test_verdict(headers: dict[str, str], expected: Severity | None) -> None:
    verdict = cors_verdict("https://evil.example", httpx.Headers(headers))
    assert (verdict.severity if verdict else None) == expected


SPEC = openapi({"/items": {"get": {"responses": {"200": {"description": "ok"}}}}})


def _preflight_app(fixed: bool) -> Starlette:
    """CORS headers only on preflights, the way some gateways answer them."""

    async def items(request: Request) -> Response:
        if request.method == "OPTIONS":
            origin = request.headers.get("origin", "")
            allowed = "https://app.example" if fixed else origin
            return Response(
                status_code=204,
                headers={
                    "Access-Control-Allow-Origin": allowed,
                    "Access-Control-Allow-Credentials": "true",
                    "Access-Control-Allow-Methods": "GET",
                },
            )
        return JSONResponse({"items": []})

    return Starlette(routes=[Route("/items", items, methods=["GET", "OPTIONS"])])


preflight_app = served(_preflight_app, False, True, ids=["vulnerable", "fixed"])


def test_a_preflight_that_reflects_any_origin(preflight_app: tuple[bool, str]) -> None:
    fixed, url = preflight_app
    result = scan_spec(SPEC, url, CHECK, canary=False)
    assert [f.severity for f in result.findings] == ([] if fixed else [Severity.HIGH])
