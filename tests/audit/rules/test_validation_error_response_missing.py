from typing import Any

from tests.audit.conftest import run, spec

RULE = "validation-error-response-missing"
OK = {"description": "ok"}
Q = [{"name": "q", "in": "query", "schema": {"type": "string"}}]


def op(responses: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {"get": {"parameters": Q, "responses": responses, **extra}}


def test_fires_on_operations_taking_input() -> None:
    doc = spec(
        {
            "/a": op({"200": OK}),
            "/b": op({"200": OK, "400": OK}),
            "/c": op({"200": OK, "422": OK}),
            "/d": op({"200": OK, "4xx": OK}),
        }
    )
    hits = run(RULE, doc)
    assert [(h.location.pointer, h.message) for h in hits] == [
        ("/paths/~1a/get", "GET /a declares no 400, 422 or 4XX response")
    ]


def test_quiet_without_input() -> None:
    doc = spec({"/health": {"get": {"responses": {"200": OK}}}})
    assert run(RULE, doc) == []
