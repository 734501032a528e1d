"""Objects learned from Location headers and OpenAPI links, proved through bola-read.

The small notes API lists nothing: the only way to learn a note's id is the answer
to its creation, as a ``Location`` header or a field an OpenAPI link points at.
"""

from __future__ import annotations

import itertools
from typing import Any

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from apiward.config import IdentitySection
from apiward.core import from_dict
from apiward.demo import serve_app
from apiward.scan import ScanOptions, scan

USERS = {"Bearer alice-token-0001": "alice", "Bearer bob-token-00002": "bob"}


def notes_app(via: str, checks_owner: bool) -> Starlette:
    notes: dict[int, dict[str, Any]] = {}
    ids = itertools.count(101)

    def caller(request: Request) -> str | None:
        return USERS.get(request.headers.get("authorization", ""))

    async def create(request: Request) -> Response:
        owner = caller(request)
        if owner is None:
            return JSONResponse({"detail": "no"}, 401)
        note_id = next(ids)
        notes[note_id] = {"id": note_id, "owner": owner, "text": "private"}
        if via == "location":
            return Response(status_code=201, headers={"Location": f"/notes/{note_id}"})
        return JSONResponse({"ref": note_id}, 201)

    async def read(request: Request) -> Response:
        owner = caller(request)
        note = notes.get(int(request.path_params["id"]))
        if owner is None:
            return JSONResponse({"detail": "no"}, 401)
        if note is None or (checks_owner and note["owner"] != owner):
            return JSONResponse({"detail": "not found"}, 404)
        return JSONResponse(note)

    return Starlette(
        routes=[
            Route("/notes", create, methods=["POST"]),
            Route("/notes/{id:int}", read, methods=["GET"]),
        ]
    )


def spec(via: str) -> dict[str, Any]:
    created: dict[str, Any] = {"description": "created"}
    if via == "links":
        created["content"] = {"application/json": {"schema": {"type": "object"}}}
        created["links"] = {
            "ReadNote": {"operationId": "readNote", "parameters": {"id": "$response.body#/ref"}}
        }
    bearer = [{"bearer": []}]
    return {
        "openapi": "3.0.3",
        "info": {"title": "notes", "version": "1"},
        "components": {"securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}}},
        "paths": {
            "/notes": {
                "post": {
                    "security": bearer,
                    "requestBody": {
                        "content": {"application/json": {"schema": {"type": "object"}}}
                    },
                    "responses": {"201": created},
                }
            },
            "/notes/{id}": {
                "get": {
                    "operationId": "readNote",
                    "security": bearer,
                    "parameters": [
                        {
                            "name": "id",
                            "in": "path",
                            "required": True,
                            "schema": {"type": "integer"},
                        }
                    ],
                    "responses": {"200": {"description": "the note"}},
                }
            },
        },
    }


@pytest.fixture(params=["location", "links"])
def via(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def run(via: str, checks_owner: bool) -> set[str]:
    identities = {
        name: IdentitySection(headers={"Authorization": token}) for token, name in USERS.items()
    }
    with serve_app(notes_app(via, checks_owner)) as url:
        options = ScanOptions(
            target=url, identities=identities, select=("bola-read",), canary=False
        )
        result = scan(from_dict(spec(via)), options)
    assert not result.errors
    return {f.message for f in result.findings}


def test_ids_from_the_creation_answer_reveal_bola(via: str) -> None:
    messages = run(via, checks_owner=False)
    assert len(messages) == 1
    assert "read" in next(iter(messages)) and "GET /notes/{id}" in next(iter(messages))


def test_quiet_when_the_owner_is_checked(via: str) -> None:
    assert run(via, checks_owner=True) == set()
