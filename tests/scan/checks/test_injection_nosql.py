"""nosql-injection on the demo bank (it has none) and on small apps with a Mongo-like matcher."""

from __future__ import annotations

import re
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from apiward.config import IdentitySection
from apiward.core import Document
from apiward.scan import ScanResult
from tests.scan.conftest import BEARER, openapi, scan_demo, scan_spec, served

CHECK = "nosql-injection"


def test_quiet_on_both_demos(demo_doc: Document, vulnerable: str, secure: str) -> None:
    assert scan_demo(demo_doc, vulnerable, CHECK).findings == []
    assert scan_demo(demo_doc, secure, CHECK).findings == []


def _body(schema: dict[str, Any]) -> dict[str, Any]:
    return {"content": {"application/json": {"schema": schema}}}


_OK = {"200": {"description": "ok"}}
_STR = {"type": "string"}
SPEC = openapi({
    "/login": {"post": {
        "security": [],
        "requestBody": _body({"type": "object", "required": ["username", "password"],
                              "properties": {"username": _STR, "password": _STR}}),
        "responses": _OK,
    }},
    "/users": {"get": {
        "parameters": [{"name": "username", "in": "query", "schema": _STR}],
        "responses": _OK,
    }},
    "/orders/search": {"post": {
        "requestBody": _body({"type": "object", "required": ["code"],
                              "properties": {"code": _STR}}),
        "responses": _OK,
    }},
}, BEARER)  # fmt: skip
USERS = [
    {"username": "alice", "password": "alice-pw-1"},
    {"username": "bob", "password": "bob-pw-22"},
]
ORDERS = [{"code": "A-100", "owner": "erin"}, {"code": "B-200", "owner": "frank"}]


def _holds(value: Any, op: str, arg: Any) -> bool:
    if op == "$eq":
        return bool(value == arg)
    if op == "$ne":
        return bool(value != arg)
    if op == "$gt":
        return value is not None and str(value) > str(arg)
    if op == "$regex":
        return value is not None and re.search(str(arg), str(value)) is not None
    return False


def _matches(doc: dict[str, Any], query: dict[str, Any]) -> bool:
    """A little of MongoDB's find(): equality, $eq, $ne, $gt, $regex."""
    for key, cond in query.items():
        ops = cond if isinstance(cond, dict) else {"$eq": cond}
        if not all(_holds(doc.get(key), op, arg) for op, arg in ops.items()):
            return False
    return True


def _query_filter(request: Request, name: str) -> Any:
    """Express/qs style: ``name[$ne]=x`` becomes ``{"$ne": "x"}``."""
    for key, value in request.query_params.items():
        if m := re.fullmatch(re.escape(name) + r"\[(\$\w+)\]", key):
            return {m.group(1): value}
    return request.query_params.get(name)


def _app(mode: str) -> Starlette:
    def typed(*values: Any) -> bool:
        return mode == "vulnerable" or all(v is None or isinstance(v, str) for v in values)

    async def login(request: Request) -> Response:
        data = await request.json()
        if not typed(data.get("username"), data.get("password")):
            return JSONResponse({"error": "username and password must be strings"}, 400)
        query = {"username": data.get("username"), "password": data.get("password")}
        user = next((u for u in USERS if _matches(u, query)), None)
        if user is None:
            return JSONResponse({"error": "bad credentials"}, 401)
        return JSONResponse({"token": f"token-of-{user['username']}"})

    def authorised(request: Request) -> bool:
        return request.headers.get("authorization") == "Bearer erin-token"

    async def users(request: Request) -> Response:
        if not authorised(request):
            return JSONResponse({"error": "unauthorized"}, 401)
        wanted = _query_filter(request, "username")
        if not typed(wanted):
            wanted = request.query_params.get("username")  # the fixed app reads the plain one
        query = {} if wanted is None else {"username": wanted}
        return JSONResponse([{"username": u["username"]} for u in USERS if _matches(u, query)])

    async def orders(request: Request) -> Response:
        if not authorised(request):
            return JSONResponse({"error": "unauthorized"}, 401)
        code = (await request.json()).get("code")
        if not typed(code):
            return JSONResponse({"error": "code must be a string"}, 400)
        return JSONResponse({"orders": [o for o in ORDERS if _matches(o, {"code": code})]})

    return Starlette(
        routes=[
            Route("/login", login, methods=["POST"]),
            Route("/users", users),
            Route("/orders/search", orders, methods=["POST"]),
        ]
    )


app = served(_app, "vulnerable", "fixed")


def _scan(url: str) -> ScanResult:
    erin = IdentitySection(headers={"Authorization": "Bearer erin-token"})
    return scan_spec(SPEC, url, CHECK, identities={"erin": erin}, canary=False)


def test_small_apps(app: tuple[str, str]) -> None:
    mode, url = app
    findings = _scan(url).findings
    if mode == "fixed":
        assert findings == []
        return
    found = {(f.usages[0].key, f.key): f for f in findings}
    assert sorted(found) == [
        ("GET /users", "username"),
        ("POST /login", "login"),
        ("POST /orders/search", "code"),
    ]
    assert found["POST /login", "login"].severity.value == "critical"
    assert "username%5B%24ne%5D=" in (found["GET /users", "username"].curl or "")
