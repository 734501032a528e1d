from tests.audit.conftest import run, spec

RULE = "long-lived-access-tokens"
URL = "https://auth.example.com/authorize"
TOKEN = "https://auth.example.com/token"


def test_fires_on_user_flows_without_refresh_url() -> None:
    flows = {
        "authorizationCode": {"authorizationUrl": URL, "tokenUrl": TOKEN, "scopes": {}},
        "password": {"tokenUrl": TOKEN, "scopes": {}},
    }
    doc = spec(components={"securitySchemes": {"oauth": {"type": "oauth2", "flows": flows}}})
    hits = run(RULE, doc)
    assert [(h.location.pointer, h.message) for h in hits] == [
        (
            "/components/securitySchemes/oauth/flows/authorizationCode",
            "OAuth2 scheme oauth: authorizationCode flow declares no refreshUrl",
        ),
        (
            "/components/securitySchemes/oauth/flows/password",
            "OAuth2 scheme oauth: password flow declares no refreshUrl",
        ),
    ]


def test_quiet_with_refresh_url_and_on_client_credentials() -> None:
    flows = {
        "authorizationCode": {
            "authorizationUrl": URL,
            "tokenUrl": TOKEN,
            "refreshUrl": TOKEN,
            "scopes": {},
        },
        "clientCredentials": {"tokenUrl": TOKEN, "scopes": {}},
        "implicit": {"authorizationUrl": URL, "scopes": {}},
    }
    doc = spec(components={"securitySchemes": {"oauth": {"type": "oauth2", "flows": flows}}})
    assert run(RULE, doc) == []
