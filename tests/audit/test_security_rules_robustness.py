"""The security rules never crash on odd documents (wrong types, broken references)."""

from __future__ import annotations

from typing import Any

import pytest

from apiward.core import from_dict, loads
from tests.audit.conftest import run

RULES = [
    "admin-security-not-unique",
    "api-key-in-query",
    "cors-origin-undeclared",
    "credentials-in-url",
    "deprecated-operation",
    "http-basic-auth",
    "insecure-auth-scheme",
    "internal-operation-published",
    "jwt-without-best-practices",
    "long-lived-access-tokens",
    "loopback-server-without-tls",
    "numeric-object-id",
    "oauth2-deprecated-flow",
    "oauth2-empty-scopes",
    "operation-without-security",
    "public-read-operation",
    "public-write-operation",
    "server-audience-undeclared",
    "server-environment-undeclared",
    "server-without-tls",
    "undeclared-oauth-scope",
    "undefined-security-scheme",
    "unused-security-scheme",
    "user-supplied-url",
]

ODD: dict[str, Any] = {
    "openapi": "3.1.0",
    "info": "not a mapping",
    "x-internal": "maybe",
    "security": [5, None, {"oauth": "read"}, {"nowhere": [1, None]}, {}],
    "servers": [
        5,
        {"url": 7},
        {"url": "{s}://{h}:{p}", "variables": {"s": {"enum": [None, 5, "http"]}, "h": 5}},
        {"url": "http://[::1", "x-internal": [], "description": None},
        {"url": "https://a:b@[bad", "variables": []},
        {
            "url": "{a}{b}{c}{d}{e}{f}{g}://x",
            "variables": {k: {"enum": list("abcdefgh")} for k in "abcdefg"},
        },
    ],
    "webhooks": {"w": 5, "r": {"$ref": "#/nowhere"}, "p": {"post": {"security": "x"}}},
    "paths": {
        "/admin/{id}": {
            "x-internal": "true",
            "servers": "x",
            "parameters": [
                {"name": "id", "in": "path", "schema": {"type": "array", "items": {"$ref": "#/x"}}},
                {"name": "ids", "in": "query", "schema": {"type": "array", "items": 5}},
                {"name": "token", "in": ["query"], "schema": {"type": 5}},
                {"name": "redirectUrl", "in": "query", "schema": {"format": ["uri"]}},
                {"name": "userId", "in": "query", "schema": {"type": "string", "pattern": 5}},
            ],
            "get": {
                "deprecated": "yes",
                "tags": "admin",
                "security": [{"oauth": ["read"]}, {"key": None}],
                "callbacks": {"c": 5, "d": {"$ref": "#/broken"}, "e": {"x": 5, "y": {"get": 5}}},
                "responses": {"200": {"headers": {"Access-Control-Allow-Origin": 5}}},
            },
            "post": {"security": [{}], "responses": "x", "x-internal": True},
            "delete": {"security": None},
        },
        "/users": {
            "get": {"security": [{"oauth": ["read"]}], "responses": {}},
            "put": {
                "requestBody": {
                    "content": {
                        "application/json": {
                            "schema": {
                                "type": "object",
                                "properties": {
                                    "callback": {"$ref": "#/nowhere"},
                                    "href": 5,
                                    "url": {"format": {"x": 1}, "readOnly": "no"},
                                },
                            }
                        }
                    }
                }
            },
        },
        "/x": 5,
    },
    "components": {
        "securitySchemes": {
            "oauth": {"type": "oauth2", "flows": {"implicit": 5, "password": {"scopes": []}}},
            "oauth2": {"type": "oauth2", "flows": "none", "description": 5},
            "key": {"type": "apiKey", "in": ["query"], "name": 5},
            "basic": {"type": "http", "scheme": 5, "bearerFormat": ["jwt"]},
            "odd": 5,
            "ref": {"$ref": "#/components/securitySchemes/oauth"},
            "broken": {"type": None, "scheme": None},
        }
    },
}


@pytest.mark.parametrize("rule_id", RULES)
def test_odd_document(rule_id: str) -> None:
    run(rule_id, from_dict(ODD))


@pytest.mark.parametrize("rule_id", RULES)
def test_empty_document_and_yaml_integer_keys(rule_id: str) -> None:
    assert run(rule_id, from_dict({"openapi": "3.0.3", "info": {}, "paths": {}})) == []
    doc = loads(
        "openapi: 3.0.3\n"
        "info: {title: t, version: '1'}\n"
        "servers: [{url: 'https://api.example.com', description: prod, x-internal: false}]\n"
        "security: [{1: []}]\n"
        "paths:\n"
        "  /a:\n"
        "    get:\n"
        "      parameters: [{name: 1, in: query}]\n"
        "      responses: {200: {description: ok}}\n"
        "components:\n"
        "  securitySchemes: {1: {type: apiKey, in: header, name: X}}\n"
    )
    run(rule_id, doc)
