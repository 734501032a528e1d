from tests.audit.conftest import run, spec

RULE = "internal-operation-published"
OK = {"200": {"description": "ok"}}


def test_fires_on_internal_operations_and_paths() -> None:
    doc = spec(
        {
            "/debug": {
                "x-internal": True,
                "get": {"responses": OK},
                "post": {"responses": OK},
            },
            "/users": {
                "get": {"x-internal": True, "responses": OK},
                "post": {"x-internal": False, "responses": OK},
            },
        }
    )
    hits = run(RULE, doc)
    assert [(h.location.pointer, h.message) for h in hits] == [
        ("/paths/~1users/get", "GET /users is marked internal (x-internal: true)"),
        ("/paths/~1debug", "path /debug is marked internal (x-internal: true)"),
    ]
    assert [u.key for u in hits[1].usages or ()] == ["GET /debug", "POST /debug"]


def test_quiet_in_a_document_marked_internal() -> None:
    paths = {"/debug": {"get": {"x-internal": True, "responses": OK}}}
    assert run(RULE, spec(paths, **{"x-internal": True})) == []
    assert run(RULE, spec(paths, info={"title": "t", "version": "1", "x-internal": True})) == []
