from tests.audit.conftest import run, spec

RULE = "operation-without-security"
OK = {"200": {"description": "ok"}}


def test_fires_when_nothing_declares_security() -> None:
    doc = spec({"/users": {"get": {"responses": OK}}})
    hits = run(RULE, doc)
    assert [h.location.pointer for h in hits] == ["/paths/~1users/get"]


def test_quiet_with_global_security() -> None:
    doc = spec(
        {"/users": {"get": {"responses": OK}}},
        security=[{"key": []}],
        components={"securitySchemes": {"key": {"type": "apiKey", "in": "header", "name": "X"}}},
    )
    assert run(RULE, doc) == []


def test_quiet_when_explicitly_public() -> None:
    doc = spec({"/health": {"get": {"security": [], "responses": OK}}})
    assert run(RULE, doc) == []


def test_one_finding_when_most_operations_have_none() -> None:
    doc = spec(
        {
            "/a": {"get": {"responses": OK}, "post": {"responses": OK}},
            "/b": {"get": {"responses": OK}},
        }
    )
    hits = run(RULE, doc)
    assert [h.location.pointer for h in hits] == ["/paths"]
    assert hits[0].usages is not None
    assert sorted(u.key for u in hits[0].usages) == ["GET /a", "GET /b", "POST /a"]
    assert hits[0].message.startswith("all 3 operations declare no security")
