from tests.audit.conftest import run, spec

RULE = "oauth2-deprecated-flow"
URL = "https://auth.example.com/authorize"
TOKEN = "https://auth.example.com/token"


def test_fires_once_per_deprecated_flow() -> None:
    flows = {
        "implicit": {"authorizationUrl": URL, "scopes": {"read": "r"}},
        "password": {"tokenUrl": TOKEN, "scopes": {"read": "r"}},
        "authorizationCode": {"authorizationUrl": URL, "tokenUrl": TOKEN, "scopes": {}},
    }
    doc = spec(components={"securitySchemes": {"oauth": {"type": "oauth2", "flows": flows}}})
    hits = run(RULE, doc)
    assert [(h.location.pointer, h.message) for h in hits] == [
        (
            "/components/securitySchemes/oauth/flows/implicit",
            "OAuth2 scheme oauth offers the implicit flow (tokens travel in URLs, no sender "
            "binding)",
        ),
        (
            "/components/securitySchemes/oauth/flows/password",
            "OAuth2 scheme oauth offers the password flow (the client handles the user's password)",
        ),
    ]


def test_quiet_on_code_and_client_credentials() -> None:
    flows = {
        "authorizationCode": {"authorizationUrl": URL, "tokenUrl": TOKEN, "scopes": {}},
        "clientCredentials": {"tokenUrl": TOKEN, "scopes": {}},
    }
    doc = spec(components={"securitySchemes": {"oauth": {"type": "oauth2", "flows": flows}}})
    assert run(RULE, doc) == []
