from tests.audit.conftest import run, spec

RULE = "api-key-in-query"


def schemes(where: str) -> dict[str, object]:
    return {"securitySchemes": {"key": {"type": "apiKey", "in": where, "name": "api_key"}}}


def test_fires_on_api_key_in_query() -> None:
    hits = run(RULE, spec(components=schemes("query")))
    assert [(h.location.pointer, h.message) for h in hits] == [
        (
            "/components/securitySchemes/key",
            "security scheme key sends the API key api_key in the query string",
        )
    ]


def test_quiet_on_header_and_cookie() -> None:
    assert run(RULE, spec(components=schemes("header"))) == []
    assert run(RULE, spec(components=schemes("cookie"))) == []
