from tests.audit.conftest import run, spec

RULE = "unused-security-scheme"
OK = {"200": {"description": "ok"}}
KEY = {"type": "apiKey", "in": "header", "name": "X-Key"}


def test_fires_on_a_scheme_nobody_uses() -> None:
    doc = spec(
        {"/a": {"get": {"security": [{"key": []}], "responses": OK}}},
        components={"securitySchemes": {"key": KEY, "old": KEY}},
    )
    hits = run(RULE, doc)
    assert [(h.location.pointer, h.message) for h in hits] == [
        ("/components/securitySchemes/old", "security scheme old is not used by any operation")
    ]


def test_quiet_when_used_globally_or_by_a_webhook_or_callback() -> None:
    callback = {"{$request.body#/url}": {"post": {"security": [{"cb": []}], "responses": OK}}}
    doc = spec(
        {"/a": {"post": {"callbacks": {"done": callback}, "responses": OK}}},
        security=[{"key": []}],
        webhooks={"ping": {"post": {"security": [{"hook": []}], "responses": OK}}},
        components={"securitySchemes": {"key": KEY, "cb": KEY, "hook": KEY}},
    )
    assert run(RULE, doc) == []
