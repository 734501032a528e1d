from typing import Any

from tests.audit.conftest import run, spec

RULE = "unauthorized-response-missing"
OK = {"description": "ok"}
ERROR = {"description": "no", "content": {"application/json": {"schema": {"type": "object"}}}}
SCHEMES = {"securitySchemes": {"key": {"type": "apiKey", "in": "header", "name": "X-Key"}}}


def doc_with(paths: dict[str, Any]) -> Any:
    return spec(paths, security=[{"key": []}], components=SCHEMES)


def test_fires_on_authenticated_operations() -> None:
    doc = doc_with(
        {
            "/a": {"get": {"responses": {"200": OK}}},
            "/b": {"get": {"responses": {"200": OK, "401": OK}}},
            "/c": {"get": {"responses": {"200": OK, "401": ERROR}}},
            "/d": {"get": {"responses": {"200": OK, "401": ERROR}}},
            "/e": {"get": {"responses": {"200": OK, "401": ERROR}}},
        }
    )
    hits = run(RULE, doc)
    assert [(h.location.pointer, h.message) for h in hits] == [
        ("/paths/~1a/get", "GET /a requires authentication but declares no 401 response"),
        ("/paths/~1b/get", "GET /b declares a 401 response without content"),
    ]


def test_quiet_on_public_operations() -> None:
    doc = doc_with(
        {
            "/open": {"get": {"security": [], "responses": {"200": OK}}},
            "/either": {"get": {"security": [{}, {"key": []}], "responses": {"200": OK}}},
        }
    )
    assert run(RULE, doc) == []
    assert run(RULE, spec({"/a": {"get": {"responses": {"200": OK}}}})) == []
