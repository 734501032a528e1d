from typing import Any

from tests.audit.conftest import run, spec
from tests.audit.rules.bodies import components, json_content, ref

RULE = "error-response-exposes-internals"


def api(responses: dict[str, Any], **schemas: Any) -> Any:
    return spec({"/x": {"get": {"responses": responses}}}, components=components(**schemas))


def error(schema: Any) -> dict[str, Any]:
    return {"description": "error", "content": json_content(schema)}


def test_fires_through_refs_and_nesting() -> None:
    problem = {
        "type": "object",
        "properties": {
            "message": {"type": "string"},
            "stackTrace": {"type": "array", "items": {"type": "string"}},
            "detail": ref("Detail"),
            "causes": {"type": "array", "items": {"allOf": [ref("Detail")]}},
        },
    }
    detail = {
        "type": "object",
        "properties": {"debug_info": {"type": "object"}, "file": {}, "line": {}},
    }
    doc = api({"500": error(ref("Problem"))}, Problem=problem, Detail=detail)
    hits = run(RULE, doc)
    assert [(h.location.pointer, h.message) for h in hits] == [
        (
            "/components/schemas/Problem",
            "1 property exposing internals in an error response: Problem.stackTrace",
        ),
        (
            "/components/schemas/Detail",
            "3 properties exposing internals in an error response: "
            "Detail.debug_info, Detail.file, Detail.line",
        ),
    ]


def test_fires_on_inline_default_response() -> None:
    schema = {"type": "object", "properties": {"exception": {"type": "string"}}}
    hits = run(RULE, api({"default": error(schema)}))
    assert [h.location.pointer for h in hits] == [
        "/paths/~1x/get/responses/default/content/application~1json/schema"
    ]


def test_quiet_on_clean_errors_and_success_bodies() -> None:
    clean = {
        "type": "object",
        "properties": {"message": {"type": "string"}, "traceId": {}, "line": {}},
    }
    debug = {"type": "object", "properties": {"debug": {"type": "string"}}}
    doc = api({"200": error(debug), "4XX": error(clean)})
    assert run(RULE, doc) == []
