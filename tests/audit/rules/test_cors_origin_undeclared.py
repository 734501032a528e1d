from typing import Any

from tests.audit.conftest import run, spec

RULE = "cors-origin-undeclared"
PLAIN = {"200": {"description": "ok"}}
CORS = {
    "200": {
        "description": "ok",
        "headers": {"access-control-allow-origin": {"schema": {"type": "string"}}},
    },
    "400": {"description": "bad"},
}


def op(responses: dict[str, Any]) -> dict[str, Any]:
    return {"get": {"responses": responses}}


def test_fires_per_operation_when_few_lack_it() -> None:
    doc = spec({"/a": op(CORS), "/b": op(CORS), "/c": op(PLAIN)})
    hits = run(RULE, doc)
    assert [(h.location.pointer, h.message) for h in hits] == [
        ("/paths/~1c/get", "GET /c declares no Access-Control-Allow-Origin header")
    ]


def test_one_api_wide_finding_when_none_declares_it() -> None:
    doc = spec({"/a": op(PLAIN), "/b": op(PLAIN), "/b/{id}": {"options": {"responses": PLAIN}}})
    hits = run(RULE, doc)
    assert [(h.location.pointer, h.message) for h in hits] == [
        ("/paths", "all 2 operations declare no Access-Control-Allow-Origin header")
    ]
    assert [u.key for u in hits[0].usages or ()] == ["GET /a", "GET /b"]


def test_quiet_when_every_operation_declares_it() -> None:
    assert run(RULE, spec({"/a": op(CORS), "/b": op(CORS)})) == []
