"""unsafe-consumption on the demo bank and on a small app importing a feed (loopback only)."""

from __future__ import annotations

import json
import re
import urllib.parse
import urllib.request
from typing import Any

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from apiward.core import Document
from apiward.scan import ScanResult
from tests.scan.conftest import openapi, scan_demo, scan_spec, served

CHECK = "unsafe-consumption"


def test_fires_on_the_vulnerable_demo(demo_doc: Document, vulnerable: str) -> None:
    [finding] = scan_demo(demo_doc, vulnerable, CHECK).findings
    assert [u.key for u in finding.usages] == ["POST /partner/merchants/sync"]
    assert finding.severity.value == "critical" and finding.identity == "partner"
    assert "ran as SQL" in finding.message and finding.key == "feed_url"
    assert len(finding.evidence) >= 2  # the import, then the read-back showing the product


def test_quiet_on_the_secure_demo(demo_doc: Document, secure: str) -> None:
    assert scan_demo(demo_doc, secure, CHECK).findings == []


BOOK = {
    "type": "object",
    "properties": {"id": {"type": "integer"},
                   "title": {"type": "string", "maxLength": 40},
                   "pages": {"type": "integer", "minimum": 1}},
}  # fmt: skip
SPEC = openapi({
    "/books/import": {"post": {
        "requestBody": {"content": {"application/json": {"schema": {
            "type": "object", "required": ["source"],
            "properties": {"source": {"type": "string"}},
        }}}},
        "responses": {"200": {"description": "ok"}},
    }},
    "/books": {"get": {
        "parameters": [{"name": "q", "in": "query", "schema": {"type": "string"}}],
        "responses": {"200": {"description": "ok", "content": {"application/json": {
            "schema": {"type": "array", "items": {"$ref": "#/components/schemas/Book"}},
        }}}},
    }},
}, schemas={"Book": BOOK})  # fmt: skip


def _fetch(url: str) -> bytes:
    if urllib.parse.urlsplit(url).hostname != "127.0.0.1":
        return b""  # the test app never leaves loopback
    with urllib.request.urlopen(url, timeout=2) as resp:  # loopback only
        data: bytes = resp.read(1 << 20)
        return data


def _valid(book: Any) -> bool:
    return (
        isinstance(book, dict)
        and isinstance(book.get("title"), str)
        and 0 < len(book["title"]) <= 40
        and type(book.get("pages")) is int
    )


_LITERAL = re.compile(r"\s*'((?:[^']|'')*)'")


def _mysql_literal(expr: str) -> str:
    """How MySQL reads a text made of quoted literals: adjacent ones are joined.

    Anything else (an operator, a function) fails like a syntax error would.
    """
    out, pos = [], 0
    while pos < len(expr):
        m = _LITERAL.match(expr, pos)
        if m is None:
            raise ValueError("You have an error in your SQL syntax")
        out.append(m.group(1).replace("''", "'"))
        pos = m.end()
    return "".join(out)


def _app(mode: str) -> Starlette:
    books: list[dict[str, Any]] = [{"id": 1, "title": "Dune", "pages": 412}]

    async def import_books(request: Request) -> Response:
        source = str((await request.json()).get("source", ""))
        try:
            feed = json.loads(await run_in_threadpool(_fetch, source))
        except (OSError, ValueError):
            return JSONResponse({"error": "the source failed"}, 502)
        # this partner wraps its list: {"books": [...]}
        items = feed.get("books") if isinstance(feed, dict) else None
        if not isinstance(items, list):
            return JSONResponse({"error": "no books in the source"}, 502)
        if mode == "fixed" and not all(_valid(b) for b in items):
            return JSONResponse({"error": "the source has invalid books"}, 502)
        for item in items[:100]:
            if not isinstance(item, dict):
                continue
            title = item.get("title")
            if mode == "mysqlish":  # the title pasted into the SQL text, as MySQL reads it
                try:
                    title = _mysql_literal(f"'{title}'")
                except ValueError:
                    return JSONResponse({"error": "the import failed"}, 500)
            # "trusting": stored as data, no SQL involved, but nothing checked either
            books.append({"id": len(books) + 1, "title": title, "pages": item.get("pages")})
        return JSONResponse({"imported": len(items)})

    async def list_books(request: Request) -> Response:
        q = request.query_params.get("q", "")
        return JSONResponse([b for b in books if q in str(b["title"])][:50])

    return Starlette(
        routes=[
            Route("/books/import", import_books, methods=["POST"]),
            Route("/books", list_books),
        ]
    )


app = served(_app, "trusting", "mysqlish", "fixed")


def _scan(url: str) -> ScanResult:
    return scan_spec(SPEC, url, CHECK)


def test_small_apps(app: tuple[str, str]) -> None:
    mode, url = app
    findings = _scan(url).findings
    if mode == "fixed":
        assert findings == []
        return
    [finding] = findings
    assert finding.usages[0].key == "POST /books/import" and finding.key == "source"
    if mode == "mysqlish":
        # the second feed's x' 'y came back as xy; the first showed the missing checks
        assert finding.severity.value == "critical" and "ran as SQL" in finding.message
        assert "where numbers belong" in finding.message
        return
    # stored as data, so no SQL ran: unvalidated sizes and types are what it shows
    assert finding.severity.value == "medium" and "ran as SQL" not in finding.message
    assert "maxLength 40" in finding.message or "over the schema's maxLength" in finding.message
    assert "where numbers belong" in finding.message
