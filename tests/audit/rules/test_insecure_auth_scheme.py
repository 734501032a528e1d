from tests.audit.conftest import run, spec

RULE = "insecure-auth-scheme"


def test_fires_on_outdated_http_schemes() -> None:
    schemes = {
        "ntlm": {"type": "http", "scheme": "Negotiate"},
        "digest": {"type": "http", "scheme": "digest"},
        "oauth1": {"type": "http", "scheme": "OAuth"},
    }
    hits = run(RULE, spec(components={"securitySchemes": schemes}))
    assert [(h.location.pointer, h.message) for h in hits] == [
        (
            "/components/securitySchemes/ntlm",
            "security scheme ntlm uses Negotiate (falls back to NTLM, open to relay attacks)",
        ),
        (
            "/components/securitySchemes/digest",
            "security scheme digest uses Digest (MD5-based, the server keeps password equivalents)",
        ),
        (
            "/components/securitySchemes/oauth1",
            "security scheme oauth1 uses OAuth 1.0 (superseded, signature handling is error-prone)",
        ),
    ]


def test_quiet_on_bearer_and_basic() -> None:
    schemes = {
        "bearer": {"type": "http", "scheme": "bearer"},
        "basic": {"type": "http", "scheme": "basic"},  # http-basic-auth's job
        "key": {"type": "apiKey", "in": "header", "name": "negotiate"},
    }
    assert run(RULE, spec(components={"securitySchemes": schemes})) == []
