from tests.audit.conftest import run, spec

RULE = "undefined-security-scheme"
OK = {"200": {"description": "ok"}}
KEY = {"type": "apiKey", "in": "header", "name": "X-Key"}


def test_fires_once_per_requirement_at_the_requirement() -> None:
    doc = spec(
        {
            "/a": {"get": {"responses": OK}},
            "/b": {"get": {"responses": OK}},
            "/c": {"get": {"security": [{"key": []}, {"Key": [], "jwt": []}], "responses": OK}},
        },
        security=[{"bearer": []}],
        components={"securitySchemes": {"key": KEY}},
    )
    hits = run(RULE, doc)
    assert [(h.location.pointer, h.message) for h in hits] == [
        ("/security/0", "security requirement names undefined scheme bearer"),
        ("/paths/~1c/get/security/1", "security requirement names undefined schemes Key, jwt"),
    ]
    assert [u.key for u in hits[0].usages or ()] == ["GET /a", "GET /b"]
    assert [u.key for u in hits[1].usages or ()] == ["GET /c"]


def test_quiet_when_every_scheme_is_defined() -> None:
    doc = spec(
        {"/a": {"get": {"security": [{}, {"key": []}], "responses": OK}}},
        security=[{"key": []}],
        components={"securitySchemes": {"key": KEY}},
    )
    assert run(RULE, doc) == []
