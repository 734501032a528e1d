"""The policy registry and the engine's use of it: order, hooks, a custom policy in one class."""

from __future__ import annotations

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from apiward.core import from_dict
from apiward.demo import serve_app
from apiward.gateway.chain import POLICIES, ApiSetup, Exchange, Headers, Policy, register
from apiward.gateway.middleware import GatewayMiddleware
from apiward.gateway.policies import Authentication, SecurityHeaders
from apiward.gateway.policy import Refusal

SPEC = {
    "openapi": "3.1.0",
    "info": {"title": "t", "version": "1"},
    "security": [],
    "paths": {
        "/things/{id}": {
            "get": {
                "parameters": [
                    {"name": "id", "in": "path", "required": True, "schema": {"type": "string"}}
                ],
                "responses": {"200": {"description": "ok"}},
            }
        }
    },
}


async def _thing(request: Request) -> Response:
    return JSONResponse({"id": request.path_params["id"]})


def test_every_builtin_policy_is_registered_with_a_docstring() -> None:
    names = set(POLICIES.names())
    assert {
        "authentication",
        "authorization",
        "rate-limit",
        "client-rate-limit",
        "validation",
        "response-filter",
        "security-headers",
    } <= names
    for cls in POLICIES:
        assert cls.__doc__ and cls.__doc__.strip(), cls


def test_a_custom_policy_is_one_class_and_runs_in_order() -> None:
    seen: list[str] = []

    class Marker(Policy):
        """Refuse thing 13; tag every answer."""

        name = "test-marker"
        order = 45

        async def on_request(self, ex: Exchange) -> Refusal | None:
            seen.append(ex.operation or "")
            assert ex.match is not None
            if ex.match.path_params["id"] == "13":
                return Refusal(403, self.name, "unlucky")
            return None

        def on_response(self, ex: Exchange, status: int, headers: Headers) -> Headers:
            return [*headers, (b"x-marker", str(status).encode())]

    register(Marker)
    try:
        assert POLICIES.get("test-marker") is Marker
        doc = from_dict(SPEC)
        setup = ApiSetup("t", doc)
        chain = [SecurityHeaders(), Marker(), Authentication(setup, {})]
        app = Starlette(routes=[Route("/things/{id}", _thing)])
        with serve_app(GatewayMiddleware(app, doc, policies=chain)) as url:
            ok = httpx.get(url + "/things/7")
            denied = httpx.get(url + "/things/13")
            missing = httpx.get(url + "/nothing")
    finally:
        POLICIES.unregister("test-marker")
    assert (ok.status_code, ok.headers["x-marker"]) == (200, "200")
    assert ok.headers["x-content-type-options"] == "nosniff"
    assert (denied.status_code, denied.json()["reason"]) == (403, "unlucky")
    assert denied.headers["x-marker"] == "403"  # refusals get the response hooks too
    assert missing.status_code == 404
    assert seen == ["GET /things/{id}", "GET /things/{id}"]  # not called for a 404
