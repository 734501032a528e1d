from typing import Any

from tests.audit.conftest import run, spec

RULE = "user-supplied-url"
OK = {"200": {"description": "ok"}}


def q(name: str, schema: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"name": name, "in": "query", "schema": schema or {"type": "string"}}


def body(ref: str) -> dict[str, Any]:
    return {"content": {"application/json": {"schema": {"$ref": ref}}}}


def test_fires_on_url_parameters_and_request_properties() -> None:
    doc = spec(
        {
            "/fetch": {
                "parameters": [q("callback")],
                "get": {
                    "parameters": [
                        q("redirect_to"),
                        q("imageUrl"),
                        q("target", {"type": "string", "format": "uri"}),
                    ],
                    "responses": OK,
                },
                "post": {"requestBody": body("#/components/schemas/Hook"), "responses": OK},
            }
        },
        components={
            "schemas": {
                "Hook": {
                    "type": "object",
                    "properties": {
                        "webhook": {"type": "string"},
                        "endpoint": {"$ref": "#/components/schemas/Uri"},
                        "selfLink": {"type": "string", "format": "uri", "readOnly": True},
                        "name": {"type": "string"},
                    },
                },
                "Uri": {"type": "string", "format": "uri"},
            }
        },
    )
    hits = run(RULE, doc)
    assert [(h.location.pointer, h.message) for h in hits] == [
        (
            "/paths/~1fetch/parameters/0",
            "query parameter callback takes a URL the server may use",
        ),
        (
            "/paths/~1fetch/get/parameters/0",
            "query parameter redirect_to takes a URL the server may use",
        ),
        (
            "/paths/~1fetch/get/parameters/1",
            "query parameter imageUrl takes a URL the server may use",
        ),
        (
            "/paths/~1fetch/get/parameters/2",
            "query parameter target takes a URL the server may use",
        ),
        (
            "/components/schemas/Hook/properties/webhook",
            "request property Hook.webhook takes a URL the server may use",
        ),
        (
            "/components/schemas/Hook/properties/endpoint",
            "request property Hook.endpoint takes a URL the server may use",
        ),
    ]


def test_quiet_on_response_only_urls_and_ordinary_names() -> None:
    link = {"type": "object", "properties": {"url": {"type": "string", "format": "uri"}}}
    doc = spec(
        {
            "/items": {
                "get": {
                    "parameters": [q("curl_version"), q("callbackId"), q("sort")],
                    "responses": {
                        "200": {
                            "description": "ok",
                            "content": {"application/json": {"schema": link}},
                        }
                    },
                }
            }
        }
    )
    assert run(RULE, doc) == []
