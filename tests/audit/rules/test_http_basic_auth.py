from tests.audit.conftest import run, spec

RULE = "http-basic-auth"
OK = {"200": {"description": "ok"}}


def test_fires_once_per_basic_scheme_with_its_operations() -> None:
    doc = spec(
        {"/a": {"get": {"responses": OK}}, "/b": {"get": {"responses": OK}}},
        security=[{"basic": []}],
        components={"securitySchemes": {"basic": {"type": "http", "scheme": "Basic"}}},
    )
    hits = run(RULE, doc)
    assert [(h.location.pointer, h.message) for h in hits] == [
        (
            "/components/securitySchemes/basic",
            "security scheme basic uses HTTP Basic (a password on every request)",
        )
    ]
    assert [u.key for u in hits[0].usages or ()] == ["GET /a", "GET /b"]


def test_quiet_on_bearer() -> None:
    schemes = {"bearer": {"type": "http", "scheme": "bearer"}}
    assert run(RULE, spec(components={"securitySchemes": schemes})) == []
