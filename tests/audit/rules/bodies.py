"""Tiny documents for schema rules: a schema sent in a request, or returned in a response."""

from __future__ import annotations

from typing import Any

from apiward.core import Document
from tests.audit.conftest import spec

OK = {"200": {"description": "ok"}}
BODY = "/paths/~1x/post/requestBody/content/application~1json/schema"
RESPONSE = "/paths/~1x/get/responses/200/content/application~1json/schema"


def json_content(schema: Any) -> dict[str, Any]:
    return {"application/json": {"schema": schema}}


def sent(schema: Any, **top: Any) -> Document:
    """A document whose POST /x takes ``schema`` as its JSON body."""
    op = {"requestBody": {"content": json_content(schema)}, "responses": OK}
    return spec({"/x": {"post": op}}, **top)


def returned(schema: Any, **top: Any) -> Document:
    """A document whose GET /x returns ``schema`` as its JSON 200 body."""
    op = {"responses": {"200": {"description": "ok", "content": json_content(schema)}}}
    return spec({"/x": {"get": op}}, **top)


def components(**schemas: Any) -> dict[str, Any]:
    return {"schemas": schemas}


def ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}
