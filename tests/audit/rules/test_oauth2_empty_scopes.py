from tests.audit.conftest import run, spec

RULE = "oauth2-empty-scopes"
TOKEN = "https://auth.example.com/token"


def test_fires_on_flows_without_scopes() -> None:
    flows = {
        "clientCredentials": {"tokenUrl": TOKEN, "scopes": {}},
        "password": {"tokenUrl": TOKEN},
        "authorizationCode": {"tokenUrl": TOKEN, "scopes": {"read": "read things"}},
    }
    doc = spec(components={"securitySchemes": {"oauth": {"type": "oauth2", "flows": flows}}})
    hits = run(RULE, doc)
    assert [(h.location.pointer, h.message) for h in hits] == [
        (
            "/components/securitySchemes/oauth/flows/clientCredentials",
            "OAuth2 scheme oauth: clientCredentials flow declares no scopes",
        ),
        (
            "/components/securitySchemes/oauth/flows/password",
            "OAuth2 scheme oauth: password flow declares no scopes",
        ),
    ]


def test_quiet_with_scopes() -> None:
    flows = {"clientCredentials": {"tokenUrl": TOKEN, "scopes": {"read": "r"}}}
    doc = spec(components={"securitySchemes": {"oauth": {"type": "oauth2", "flows": flows}}})
    assert run(RULE, doc) == []
