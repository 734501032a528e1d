"""Two rich specs (OpenAPI 3.1 and Swagger 2.0) and a mutator for robustness tests."""

from __future__ import annotations

import copy
import random
from collections.abc import Iterator
from typing import Any

OAS3: dict[str, Any] = {
    "openapi": "3.1.0",
    "info": {"title": "t", "version": "1"},
    "servers": [{"url": "http://api.example.com", "variables": {"v": {"default": "1"}}}],
    "security": [{"key": []}],
    "paths": {
        "/pets/{id}": {
            "parameters": [{"$ref": "#/components/parameters/Id"}],
            "get": {
                "operationId": "getPet",
                "tags": ["pets"],
                "security": [{}, {"oauth": ["read"]}],
                "parameters": [
                    {"name": "q", "in": "query", "schema": {"type": ["string", "null"]}},
                    {"name": "c", "in": "query", "content": {"application/json": {"schema": {}}}},
                ],
                "responses": {
                    "200": {
                        "description": "ok",
                        "headers": {"X-Rate": {"schema": {"type": "integer"}}},
                        "content": {
                            "application/json": {"schema": {"$ref": "#/components/schemas/Pet"}}
                        },
                    },
                    "default": {"$ref": "#/components/responses/Error"},
                },
                "callbacks": {"cb": {"{$request.body#/url}": {"post": {"responses": {}}}}},
            },
            "put": {
                "requestBody": {"$ref": "#/components/requestBodies/Pet"},
                "responses": {"204": {"description": "done"}},
                "servers": [{"url": "https://other.example.com"}],
            },
        },
        "/tree": {"$ref": "#/components/pathItems/Tree"},
    },
    "components": {
        "schemas": {
            "Pet": {
                "type": "object",
                "required": ["name"],
                "properties": {
                    "name": {"type": "string", "maxLength": 10},
                    "owner": {"$ref": "#/components/schemas/Owner"},
                    "tags": {"type": "array", "items": {"type": "string"}},
                    "meta": {"additionalProperties": {"type": "integer"}},
                },
                "allOf": [{"$ref": "#/components/schemas/Base"}],
            },
            "Owner": {
                "type": "object",
                "properties": {"pet": {"$ref": "#/components/schemas/Pet"}},
            },
            "Base": {"oneOf": [{"type": "object"}, {"type": "null"}], "example": {"$ref": 1}},
            "Node": {"properties": {"children": {"items": {"$ref": "#/components/schemas/Node"}}}},
        },
        "parameters": {"Id": {"name": "id", "in": "path", "required": True, "schema": {}}},
        "requestBodies": {
            "Pet": {
                "required": True,
                "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Pet"}}},
            }
        },
        "responses": {
            "Error": {
                "description": "e",
                "content": {"application/json": {"schema": {"type": "object"}}},
            }
        },
        "securitySchemes": {
            "key": {"type": "apiKey", "name": "k", "in": "header"},
            "oauth": {
                "type": "oauth2",
                "flows": {"implicit": {"authorizationUrl": "u", "scopes": {}}},
            },
            "basic": {"type": "http", "scheme": "Basic"},
        },
        "pathItems": {"Tree": {"get": {"responses": {"200": {"description": "t"}}}}},
    },
}

SWAGGER: dict[str, Any] = {
    "swagger": "2.0",
    "info": {"title": "t", "version": "1"},
    "host": "api.example.com",
    "basePath": "/v1",
    "schemes": ["http", "https"],
    "consumes": ["application/json"],
    "produces": ["application/json", "application/xml"],
    "x-root": True,
    "securityDefinitions": {
        "basic": {"type": "basic"},
        "key": {"type": "apiKey", "name": "X-Key", "in": "header"},
        "implicit": {
            "type": "oauth2",
            "flow": "implicit",
            "authorizationUrl": "https://a/auth",
            "scopes": {"r": "read"},
        },
        "password": {
            "type": "oauth2",
            "flow": "password",
            "tokenUrl": "https://a/token",
            "scopes": {},
        },
        "application": {"type": "oauth2", "flow": "application", "tokenUrl": "https://a/token"},
        "accessCode": {
            "type": "oauth2",
            "flow": "accessCode",
            "authorizationUrl": "https://a/auth",
            "tokenUrl": "https://a/token",
            "scopes": {"w": "write"},
            "x-scheme-ext": 1,
        },
    },
    "security": [{"key": []}],
    "parameters": {
        "Limit": {"name": "limit", "in": "query", "type": "integer", "maximum": 100},
        "Body": {
            "name": "body",
            "in": "body",
            "required": True,
            "schema": {"$ref": "#/definitions/Pet"},
        },
        "Note": {"name": "note", "in": "formData", "type": "string"},
    },
    "responses": {"NotFound": {"description": "nf", "schema": {"$ref": "#/definitions/Error"}}},
    "paths": {
        "/pets": {
            "x-path-ext": "p",
            "parameters": [{"name": "X-Trace", "in": "header", "type": "string"}],
            "get": {
                "x-op-ext": "o",
                "parameters": [
                    {"$ref": "#/parameters/Limit"},
                    {
                        "name": "tags",
                        "in": "query",
                        "type": "array",
                        "items": {"type": "string"},
                        "collectionFormat": "multi",
                        "x-param-ext": 1,
                    },
                ],
                "responses": {
                    "200": {
                        "description": "ok",
                        "headers": {"X-Rate": {"type": "integer", "description": "rate"}},
                        "schema": {"type": "array", "items": {"$ref": "#/definitions/Pet"}},
                        "examples": {"application/json": [{"name": "rex"}]},
                    },
                    "404": {"$ref": "#/responses/NotFound"},
                },
            },
            "post": {
                "security": [],
                "parameters": [{"$ref": "#/parameters/Body"}],
                "responses": {"201": {"description": "created"}},
            },
        },
        "/pets/{id}/photo": {
            "post": {
                "schemes": ["http"],
                "consumes": ["multipart/form-data"],
                "parameters": [
                    {"name": "id", "in": "path", "required": True, "type": "string"},
                    {"name": "file", "in": "formData", "type": "file", "required": True},
                    {"$ref": "#/parameters/Note"},
                ],
                "responses": {"200": {"description": "ok", "schema": {"type": "file"}}},
            }
        },
    },
    "definitions": {
        "Pet": {
            "type": "object",
            "discriminator": "kind",
            "required": ["kind"],
            "properties": {
                "kind": {"type": "string"},
                "owner": {"$ref": "#/definitions/Pet", "x-nullable": True},
            },
        },
        "Error": {"type": "object", "properties": {"code": {"type": "integer"}}},
    },
}

_ODD: list[Any] = [
    None, 0, 1.5, True, "x", "", [], {}, [None], {"a": None},
    {"$ref": "#/nowhere"}, {"$ref": "#/paths"}, {"$ref": ""}, {"$ref": "#"}, {"$ref": 5},
    {"$ref": "#/components/schemas/Pet"}, {"$ref": "#/definitions/Pet"}, {"$ref": "other.yaml#/x"},
    {"$ref": "#/paths/~1pets~1{id}/get"}, {"type": 5, "properties": []}, {"x-a": {"$ref": "#/no"}},
]  # fmt: skip


def _nodes(data: Any, path: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    stack = [(data, path)]
    while stack:
        value, at = stack.pop()
        yield at
        if isinstance(value, dict):
            stack.extend((v, (*at, k)) for k, v in value.items())
        elif isinstance(value, list):
            stack.extend((v, (*at, i)) for i, v in enumerate(value))


def mutants(base: dict[str, Any], count: int, seed: int) -> Iterator[dict[str, Any]]:
    """``count`` copies of ``base``, each with 1-3 nodes replaced by odd values."""
    rng = random.Random(seed)
    paths = [p for p in _nodes(base) if p]
    for _ in range(count):
        data = copy.deepcopy(base)
        for path in rng.sample(paths, rng.randint(1, 3)):
            parent: Any = data
            try:
                for token in path[:-1]:
                    parent = parent[token]
                parent[path[-1]] = copy.deepcopy(rng.choice(_ODD))
            except (KeyError, IndexError, TypeError):
                continue
        yield data
