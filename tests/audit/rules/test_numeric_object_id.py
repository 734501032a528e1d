from typing import Any

from tests.audit.conftest import run, spec

RULE = "numeric-object-id"
OK = {"200": {"description": "ok"}}


def param(name: str, schema: dict[str, Any], where: str = "path") -> dict[str, Any]:
    return {"name": name, "in": where, "required": True, "schema": schema}


def test_fires_on_numeric_ids_once_per_parameter() -> None:
    doc = spec(
        {
            "/users/{userId}": {
                "parameters": [param("userId", {"type": "integer"})],
                "get": {"responses": OK},
                "delete": {"responses": OK},
            },
            "/orders": {
                "get": {
                    "parameters": [
                        param("order_id", {"type": ["integer", "null"]}, "query"),
                        param("ids", {"type": "array", "items": {"type": "integer"}}, "query"),
                        param("account-id", {"type": "string", "pattern": "^[0-9]+$"}, "query"),
                        param("id", {"type": "string", "format": "int64"}, "query"),
                    ],
                    "responses": OK,
                }
            },
        }
    )
    hits = run(RULE, doc)
    assert [(h.location.pointer, h.message) for h in hits] == [
        (
            "/paths/~1users~1{userId}/parameters/0/schema",
            "path parameter userId is a numeric ID, easy to guess",
        ),
        (
            "/paths/~1orders/get/parameters/0/schema",
            "query parameter order_id is a numeric ID, easy to guess",
        ),
        (
            "/paths/~1orders/get/parameters/1/schema",
            "query parameter ids is a numeric ID, easy to guess",
        ),
        (
            "/paths/~1orders/get/parameters/2/schema",
            "query parameter account-id is a numeric ID, easy to guess",
        ),
        (
            "/paths/~1orders/get/parameters/3/schema",
            "query parameter id is a numeric ID, easy to guess",
        ),
    ]


def test_shared_id_schema_is_reported_once_at_the_schema() -> None:
    ref = {"$ref": "#/components/schemas/Id"}
    doc = spec(
        {
            "/a/{id}": {"get": {"parameters": [param("id", ref)], "responses": OK}},
            "/b/{bId}": {"get": {"parameters": [param("bId", ref)], "responses": OK}},
        },
        components={"schemas": {"Id": {"type": "integer", "format": "int64"}}},
    )
    hits = run(RULE, doc)
    assert [(h.location.pointer, h.message) for h in hits] == [
        (
            "/components/schemas/Id",
            "numeric ID schema used by parameter(s) bId, id is easy to guess",
        )
    ]


def test_quiet_on_uuids_headers_and_non_id_names() -> None:
    doc = spec(
        {
            "/users/{userId}": {
                "get": {
                    "parameters": [
                        param("userId", {"type": "string", "format": "uuid"}),
                        param("X-Request-Id", {"type": "integer"}, "header"),
                        param("paid", {"type": "integer"}, "query"),
                        param("page", {"type": "integer"}, "query"),
                        param("ids", {"type": "array", "items": {"type": "string"}}, "query"),
                    ],
                    "responses": OK,
                }
            }
        }
    )
    assert run(RULE, doc) == []
