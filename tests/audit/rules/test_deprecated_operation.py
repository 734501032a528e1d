from tests.audit.conftest import run, spec

RULE = "deprecated-operation"
OK = {"200": {"description": "ok"}}


def test_fires_on_deprecated_operations() -> None:
    doc = spec(
        {"/v1/users": {"get": {"deprecated": True, "responses": OK}, "post": {"responses": OK}}}
    )
    hits = run(RULE, doc)
    assert [(h.location.pointer, h.message) for h in hits] == [
        ("/paths/~1v1~1users/get", "GET /v1/users is deprecated but still published")
    ]


def test_quiet_on_current_operations() -> None:
    doc = spec({"/users": {"get": {"deprecated": False, "responses": OK}}})
    assert run(RULE, doc) == []
