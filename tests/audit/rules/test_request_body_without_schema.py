from typing import Any

from tests.audit.conftest import run, spec

RULE = "request-body-without-schema"
OK = {"200": {"description": "ok"}}


def post(body: dict[str, Any]) -> dict[str, Any]:
    return {"post": {"requestBody": body, "responses": OK}}


def test_fires_on_missing_or_empty_schemas() -> None:
    doc = spec(
        {
            "/a": post(
                {
                    "content": {
                        "application/json": {},
                        "text/plain": {"schema": {"description": "any text"}},
                        "application/xml": {"schema": {"type": "object"}},
                    }
                }
            ),
            "/b": post({"content": {}}),
            "/c": post({"$ref": "#/components/requestBodies/Blob"}),
            "/d": post({"$ref": "#/components/requestBodies/Blob"}),
        },
        components={"requestBodies": {"Blob": {"content": {"application/octet-stream": {}}}}},
    )
    hits = run(RULE, doc)
    assert [(h.location.pointer, h.message) for h in hits] == [
        (
            "/paths/~1a/post/requestBody",
            "request body accepts anything as application/json, text/plain (no schema)",
        ),
        (
            "/paths/~1b/post/requestBody",
            "request body declares no media type: anything is accepted",
        ),
        (
            "/components/requestBodies/Blob",
            "request body accepts anything as application/octet-stream (no schema)",
        ),
    ]


def test_quiet_with_schemas() -> None:
    doc = spec(
        {
            "/a": post({"content": {"application/json": {"schema": {"type": "object"}}}}),
            "/b": post({"content": {"application/json": {"schema": False}}}),
            "/c": {"get": {"responses": OK}},
        }
    )
    assert run(RULE, doc) == []
