"""method-not-allowed-bypass (DELETE) on the demo bank; undocumented-method on small apps."""

from __future__ import annotations

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from apiward.config import IdentitySection
from apiward.core import Document
from apiward.scan import ScanResult
from tests.scan.conftest import X_KEY, demo_auth, openapi, rule_ids, scan_demo, scan_spec, served

DELETE = "method-not-allowed-bypass"
OTHER = "undocumented-method"


def _accounts(url: str, user: str, password: str) -> list[int]:
    answer = httpx.get(f"{url}/accounts", headers=demo_auth(url, user, password))
    return [a["id"] for a in answer.json()]


def test_delete_fires_on_the_vulnerable_demo_on_the_callers_own_object(
    demo_doc: Document, vulnerable: str
) -> None:
    bob = _accounts(vulnerable, "bob", "Bob-Passw0rd!!")
    result = scan_demo(demo_doc, vulnerable, DELETE)
    [finding] = result.findings
    assert finding.rule_id == DELETE and "/accounts/" in finding.message
    assert finding.confidence == "certain"
    # one object of the caller's own is gone; nobody else's was touched
    left = _accounts(vulnerable, "alice", "Alice-Passw0rd!")
    assert len(left) == 1 and _accounts(vulnerable, "bob", "Bob-Passw0rd!!") == bob


def test_delete_quiet_on_the_secure_demo(demo_doc: Document, secure: str) -> None:
    assert rule_ids(scan_demo(demo_doc, secure, DELETE, OTHER)) == set()


def test_safe_mode_skips_the_delete(demo_doc: Document, vulnerable: str) -> None:
    result = scan_demo(demo_doc, vulnerable, DELETE, OTHER, safe=True)
    assert DELETE not in {c.id for c in result.checks} and result.findings == []


# ---------------------------------------------------------------- small apps

SPEC = openapi({
    "/items": {"get": {"responses": {"200": {"description": "ok"}}}},
    "/items/{id}": {
        "parameters": [{"name": "id", "in": "path", "required": True,
                        "schema": {"type": "integer"}}],
        "get": {"responses": {"200": {"description": "ok"}}},
    },
}, X_KEY)  # fmt: skip
ITEMS = [{"id": 1, "name": "one"}, {"id": 2, "name": "two"}]


def _app(kind: str) -> Starlette:
    async def listing(request: Request) -> Response:
        return JSONResponse(ITEMS)

    async def item(request: Request) -> Response:
        return JSONResponse(ITEMS[0])

    async def anything(request: Request) -> Response:
        return JSONResponse({"ok": True})

    methods = ["GET", "PATCH"] if kind == "vulnerable" else ["GET"]
    routes: list[BaseRoute] = [
        Route("/items", listing),
        Route("/items/{id}", item, methods=methods),
    ]
    if kind == "catch-all":
        routes.append(Route("/{rest:path}", anything, methods=["GET", "PATCH", "PUT", "POST"]))
    return Starlette(routes=routes)


app = served(_app, "vulnerable", "fixed", "catch-all")


def _scan(url: str) -> ScanResult:
    identities = {"carol": IdentitySection(headers={"X-Key": "k"})}
    return scan_spec(SPEC, url, OTHER, identities=identities)


def test_undocumented_patch(app: tuple[str, str]) -> None:
    kind, url = app
    findings = _scan(url).findings
    if kind == "vulnerable":
        [finding] = findings
        assert finding.key == "/items/{id}" and "PATCH" in finding.message
    else:
        assert findings == []
