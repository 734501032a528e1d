"""Merchant search (SQL), network check (shell) and statements (files): the injection area."""

from __future__ import annotations

import asyncio
import re

from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import BaseRoute, Route

from apiward.demo import shell, validate
from apiward.demo.db import COLUMNS
from apiward.demo.files import STATEMENTS, read_file, statements_of
from apiward.demo.http import ApiError, caller, read_json
from apiward.demo.state import demo

SEARCH_LIMIT = 50
_STATEMENT_NAME = re.compile(r"[0-9]{4}-[0-9]{2}\.txt")


async def search(request: Request) -> Response:
    """Public merchant directory search."""
    instance = demo(request)
    query = request.query_params.get("q", "")
    if instance.secure:
        if len(query) > 64:
            raise ApiError(400, "q is longer than 64 characters")
        rows = instance.db.query(
            "SELECT id, name, category, city FROM merchants WHERE name LIKE ? ORDER BY id LIMIT ?",
            (f"%{query}%", SEARCH_LIMIT),
        )
    else:
        rows = instance.db.query(
            "SELECT id, name, category, city FROM merchants "
            f"WHERE name LIKE '%{query}%' ORDER BY id LIMIT {SEARCH_LIMIT}"
        )
    return JSONResponse({"items": [dict(zip(COLUMNS, row, strict=False)) for row in rows]})


async def ping(request: Request) -> Response:
    """Reachability check for the caller's webhook host."""
    instance = demo(request)
    caller(request)
    data = await read_json(request)
    host = validate.text(data, "host", secure=instance.secure, max_len=253)
    if instance.secure:
        if not shell.valid_host(host):
            raise ApiError(400, "host must be a host name or an IP address")
        return JSONResponse({"host": host, "output": shell.ping_output(host)})
    output, delay = shell.run(f"ping -c 1 {host}")
    await asyncio.sleep(delay)
    return JSONResponse({"host": host, "output": output})


async def list_statements(request: Request) -> Response:
    user = caller(request).user
    return JSONResponse({"files": statements_of(user.username)})


async def download_statement(request: Request) -> Response:
    instance = demo(request)
    user = caller(request).user
    name = request.query_params.get("file", "")
    if instance.secure and not _STATEMENT_NAME.fullmatch(name):
        raise ApiError(400, "file must be a statement name such as 2024-01.txt")
    content = read_file(name, cwd=f"{STATEMENTS}/{user.username}")
    if content is None:
        raise ApiError(404, "no such statement")
    return PlainTextResponse(content)


def routes(secure: bool) -> list[BaseRoute]:
    return [
        Route("/search", search, methods=["GET"]),
        Route("/tools/ping", ping, methods=["POST"]),
        Route("/statements", list_statements, methods=["GET"]),
        Route("/statements/download", download_statement, methods=["GET"]),
    ]
