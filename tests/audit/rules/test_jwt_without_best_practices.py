from tests.audit.conftest import run, spec

RULE = "jwt-without-best-practices"


def test_fires_on_jwt_schemes_without_rfc8725() -> None:
    schemes = {
        "jwt": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"},
        "oauth": {"type": "oauth2", "description": "tokens", "flows": {}},
        "oidc": {"type": "openIdConnect", "openIdConnectUrl": "https://x/.well-known"},
    }
    hits = run(RULE, spec(components={"securitySchemes": schemes}))
    assert [h.location.pointer for h in hits] == [
        "/components/securitySchemes/jwt",
        "/components/securitySchemes/oauth",
        "/components/securitySchemes/oidc",
    ]
    assert hits[0].message == (
        "security scheme jwt uses JWTs but its description does not cite RFC 8725"
    )


def test_quiet_when_rfc8725_is_cited_or_no_jwt() -> None:
    schemes = {
        "jwt": {
            "type": "http",
            "scheme": "bearer",
            "bearerFormat": "jwt",
            "description": "A JWS conforming to RFC 8725.",
        },
        "oauth": {"type": "oauth2", "description": "see rfc8725", "flows": {}},
        "opaque": {"type": "http", "scheme": "bearer"},
        "key": {"type": "apiKey", "in": "header", "name": "X-Key"},
    }
    assert run(RULE, spec(components={"securitySchemes": schemes})) == []
