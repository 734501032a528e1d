from tests.audit.conftest import run, spec

RULE = "rate-limit-response-missing"
OK = {"description": "ok"}
TOO_MANY = {"description": "x", "content": {"application/json": {"schema": {"type": "object"}}}}


def test_fires_per_operation_when_few_lack_it() -> None:
    doc = spec(
        {
            "/a": {"get": {"responses": {"200": OK, "429": TOO_MANY}}},
            "/b": {"get": {"responses": {"200": OK, "429": TOO_MANY}}},
            "/c": {"get": {"responses": {"200": OK, "429": OK}}},
        }
    )
    hits = run(RULE, doc)
    assert [(h.location.pointer, h.message) for h in hits] == [
        ("/paths/~1c/get", "GET /c declares a 429 response without content")
    ]


def test_one_api_wide_finding_when_all_lack_it() -> None:
    doc = spec({"/a": {"get": {"responses": {"200": OK}}}, "/b": {"post": {"responses": {}}}})
    hits = run(RULE, doc)
    assert [(h.location.pointer, h.message) for h in hits] == [
        ("/paths", "all 2 operations declare no 429 response with content")
    ]


def test_single_operation_gets_its_own_message() -> None:
    hits = run(RULE, spec({"/a": {"get": {"responses": {"200": OK}}}}))
    assert [(h.location.pointer, h.message) for h in hits] == [
        ("/paths/~1a/get", "GET /a declares no 429 response")
    ]


def test_quiet_when_declared() -> None:
    assert run(RULE, spec({"/a": {"get": {"responses": {"429": TOO_MANY}}}})) == []
