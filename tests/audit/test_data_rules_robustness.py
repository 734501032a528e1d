"""The data-validation and response rules never crash on odd documents."""

from __future__ import annotations

from typing import Any

import pytest

from apiward.core import Document, from_dict, loads
from apiward.core.source import Source
from tests.audit.conftest import run

RULES = [
    "additional-properties-unbounded",
    "additional-properties-unconstrained",
    "array-without-max-items",
    "error-response-exposes-internals",
    "integer-without-format",
    "numeric-without-limits",
    "privileged-property-writable",
    "rate-limit-headers-missing",
    "rate-limit-response-missing",
    "request-body-without-schema",
    "retry-after-missing",
    "sensitive-data-in-response",
    "server-error-response-missing",
    "string-unrestricted",
    "string-without-max-length",
    "unauthorized-response-missing",
    "validation-error-response-missing",
]

ODD_SCHEMA: dict[str, Any] = {
    "type": 5,
    "properties": {
        "p": 5,
        "q": None,
        "password": {"$ref": "#/nowhere"},
        "role": {"$ref": "#not-a-pointer"},
        "secret": {"$ref": 7},
        "r": {"type": ["string", 5, None, {"x": 1}], "format": ["list"], "pattern": 5},
        "s": {"type": "integer", "minimum": "0", "maximum": True, "exclusiveMinimum": None},
        "t": {"type": "array", "items": "x", "maxItems": "ten"},
        "u": {"type": "object", "additionalProperties": "yes", "unevaluatedProperties": []},
        "v": {"type": {"nested": "dict"}, "properties": ["a", "b"]},
        "deep": {"allOf": "x", "anyOf": [1, None, {"type": "string"}], "oneOf": {}},
    },
    "items": [1, {"type": "string"}],
    "additionalProperties": {"$ref": "#/components/schemas/Odd"},
}

ODD: dict[str, Any] = {
    "openapi": "3.1.0",
    "info": {"title": "t", "version": "1"},
    "security": "everyone",
    "paths": {
        "/a": {
            "get": "not an operation",
            "post": {
                "parameters": [5, {"name": 5}, {"name": "q", "in": "query", "schema": "x"}],
                "requestBody": {"content": {"application/json": "x", "a/b": {"schema": "x"}}},
                "responses": {
                    "200": "nope",
                    "429": {"headers": ["Retry-After"], "content": ["x"]},
                    "default": {"content": {"application/json": {"schema": ODD_SCHEMA}}},
                    "401": {"description": "x", "headers": {"WWW-Authenticate": 5}},
                },
                "security": [5, {"key": "scope"}],
            },
            "put": {"requestBody": {"content": "x"}, "responses": []},
            "patch": {"requestBody": {"$ref": "#/components/requestBodies/Nope"}, "responses": 5},
            "delete": {"requestBody": {"content": {"text/plain": {"schema": True}}}},
        },
        "/b": [],
        "/c": {"trace": {"responses": {"4XX": {"content": {"*/*": {"schema": ODD_SCHEMA}}}}}},
    },
    "components": {
        "schemas": {
            "Odd": ODD_SCHEMA,
            "Loop": {"$ref": "#/components/schemas/Loop"},
            "Str": "string",
            "Self": {"type": "object", "properties": {"me": {"$ref": "#/components/schemas/Self"}}},
        },
        "responses": [],
        "requestBodies": {"Nope": 5},
    },
}


@pytest.mark.parametrize("rule_id", RULES)
def test_odd_openapi_document(rule_id: str) -> None:
    run(rule_id, from_dict(ODD))


@pytest.mark.parametrize("rule_id", RULES)
def test_yaml_integer_keys_and_deep_nesting(rule_id: str) -> None:
    deep: dict[str, Any] = {"type": "string"}
    for _ in range(3000):  # deeper than Python's recursion limit: nothing may recurse
        deep = {"type": "object", "properties": {"n": deep}}
    data = {
        "openapi": "3.0.3",
        "info": {"title": "t", "version": "1"},
        "paths": {"/a": {"post": {"requestBody": {"content": {"application/json": {}}}}}},
        "components": {"schemas": {"Deep": deep}},
    }
    # built directly: from_dict's json.dumps would itself recurse too deep
    run(rule_id, Document(Source("<memory>.json", "{}", data, "json"), data, "3.0.3"))
    yaml_doc = loads(
        "openapi: 3.0.3\n"
        "info: {title: t, version: '1'}\n"
        "paths:\n"
        "  /a:\n"
        "    get:\n"
        "      responses:\n"
        "        200: {description: ok}\n"
        "        429: {description: slow}\n"
        "components:\n"
        "  schemas:\n"
        "    A: {type: object, properties: {1: {type: string}, 2: {type: array}}}\n"
    )
    run(rule_id, yaml_doc)
