"""sql-injection on the demo bank and on small SQLite apps: blind, timed, echoing, safe."""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from apiward.core import Document
from apiward.scan import ScanResult
from apiward.scan.checks import injection_sql
from tests.scan.conftest import openapi, scan_demo, scan_spec, serve_param

CHECK = "sql-injection"


def test_fires_on_the_vulnerable_demo(demo_doc: Document, vulnerable: str) -> None:
    [finding] = scan_demo(demo_doc, vulnerable, CHECK).findings
    assert [u.key for u in finding.usages] == ["GET /search"]
    assert finding.key == "q" and finding.confidence == "certain"
    assert "database error" in finding.message


def test_quiet_on_the_secure_demo(demo_doc: Document, secure: str) -> None:
    assert scan_demo(demo_doc, secure, CHECK).findings == []


_OK = {"200": {"description": "ok", "content": {"application/json": {"schema": {}}}}}
SPEC = openapi({
    "/items": {"get": {
        "parameters": [{"name": "q", "in": "query", "required": True,
                        "schema": {"type": "string"}}],
        "responses": _OK,
    }},
    "/users/{username}": {"get": {
        "parameters": [{"name": "username", "in": "path", "required": True,
                        "schema": {"type": "string", "example": "alice"}}],
        "responses": _OK,
    }},
    "/notes": {"post": {
        "requestBody": {"content": {"application/json": {"schema": {
            "type": "object", "required": ["title"],
            "properties": {"title": {"type": "string"}},
        }}}},
        "responses": _OK,
    }},
})  # fmt: skip


def _sleep(seconds: Any) -> int:
    time.sleep(min(float(seconds), 2.0))  # bounded, whatever a payload asks
    return 0


def _db() -> sqlite3.Connection:
    db = sqlite3.connect(":memory:", check_same_thread=False)
    # MySQL's SLEEP, so the timed payloads have something to run (bounded for safety)
    db.create_function("SLEEP", 1, _sleep)
    db.execute("CREATE TABLE items (name TEXT)")
    db.executemany("INSERT INTO items VALUES (?)", [("apple",), ("pear",), ("plum",)])
    db.execute("CREATE TABLE notes (title TEXT)")
    db.execute("CREATE TABLE users (username TEXT, email TEXT)")
    db.executemany("INSERT INTO users VALUES (?, ?)", [("alice", "a@x.test"), ("bob", "b@x.test")])
    return db


def _app(mode: str) -> Starlette:
    db = _db()
    lock = threading.Lock()

    def run(sql: str, args: tuple[Any, ...] = ()) -> list[Any]:
        with lock:
            return db.execute(sql, args).fetchall()

    async def items(request: Request) -> Response:
        q = request.query_params.get("q", "")
        if mode == "safe":
            return JSONResponse({"items": run("SELECT name FROM items WHERE name = ?", (q,))})
        if mode == "echo":
            if "'" in q or '"' in q:
                return JSONResponse({"detail": f"q {q!r} has characters not allowed"}, 400)
            return JSONResponse({"items": run("SELECT name FROM items WHERE name = ?", (q,))})
        try:
            rows = run(f"SELECT name FROM items WHERE name = '{q}'")  # the flaw
        except sqlite3.Error:
            if mode == "timed":
                return JSONResponse({"error": "internal error"}, 500)
            rows = []  # "blind": the error is swallowed
        return JSONResponse({"ok": True} if mode == "timed" else {"items": rows})

    async def notes(request: Request) -> Response:
        title = (await request.json()).get("title", "")
        if mode != "errors":
            run("INSERT INTO notes VALUES (?)", (str(title),))
            return JSONResponse({"title": title}, 201)
        try:
            run(f"INSERT INTO notes VALUES ('{title}')")  # the flaw
        except sqlite3.Error as exc:
            return JSONResponse({"error": f"sqlite3.{type(exc).__name__}: {exc}"}, 500)
        return JSONResponse({"title": title}, 201)

    async def user(request: Request) -> Response:
        name = request.path_params["username"]
        sql = "SELECT username, email FROM users WHERE username = "
        try:  # the flaw in the blind app
            rows = run(sql + f"'{name}'") if mode == "blind" else run(sql + "?", (name,))
        except sqlite3.Error:
            rows = []
        if not rows:
            return JSONResponse({"error": "no such user"}, 404)
        return JSONResponse({"username": rows[0][0], "email": rows[0][1]})

    return Starlette(
        routes=[
            Route("/items", items),
            Route("/users/{username}", user),
            Route("/notes", notes, methods=["POST"]),
        ]
    )


@pytest.fixture(params=["blind", "timed", "errors", "echo", "safe"])
def app(
    request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch
) -> Iterator[tuple[str, str]]:
    monkeypatch.setattr(injection_sql, "_DELAY", 1.0)  # keeps the timed case short
    yield from serve_param(request, _app)


def _scan(url: str) -> ScanResult:
    return scan_spec(SPEC, url, CHECK, canary=False)


def test_small_apps(app: tuple[str, str]) -> None:
    mode, url = app
    findings = _scan(url).findings
    found = {(f.usages[0].key, f.key): f for f in findings}
    if mode == "blind":
        assert sorted(found) == [("GET /items", "q"), ("GET /users/{username}", "username")]
        assert "conditions change the answer" in found["GET /items", "q"].message
        # with the spec's example (a real user) an AND pair proves it; without, an OR pair
        curl = found["GET /users/{username}", "username"].curl or ""
        assert "%27%20AND%20" in curl or "%27%20OR%20" in curl
    elif mode == "timed":
        assert list(found) == [("GET /items", "q")]
        assert "sleep delays the answer" in found["GET /items", "q"].message
    elif mode == "errors":
        assert ("POST /notes", "title") in found  # GET /items is the blind one here too
        assert found["POST /notes", "title"].confidence == "certain"
    else:
        assert findings == []
