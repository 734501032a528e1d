from tests.audit.conftest import run, spec

RULE = "server-error-response-missing"
OK = {"description": "ok"}
ERROR = {"description": "no", "content": {"application/json": {"schema": {"type": "object"}}}}


def test_fires_when_nothing_covers_500() -> None:
    doc = spec(
        {
            "/a": {"get": {"responses": {"200": OK}}},
            "/b": {"get": {"responses": {"200": OK, "5XX": OK}}},
            "/c": {"get": {"responses": {"500": ERROR}}},
            "/d": {"get": {"responses": {"5XX": ERROR}}},
            "/e": {"get": {"responses": {"default": ERROR}}},
        }
    )
    hits = run(RULE, doc)
    assert [(h.location.pointer, h.message) for h in hits] == [
        ("/paths/~1a/get", "GET /a declares no 500, 5XX or default response"),
        ("/paths/~1b/get", "GET /b declares its 5XX response without content"),
    ]


def test_quiet_when_covered() -> None:
    doc = spec({"/a": {"get": {"responses": {"200": OK, "default": ERROR}}}})
    assert run(RULE, doc) == []
