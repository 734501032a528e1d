from tests.audit.conftest import run, spec

RULE = "undeclared-oauth-scope"
OK = {"200": {"description": "ok"}}
TOKEN = "https://auth.example.com/token"
SCHEMES = {
    "oauth": {
        "type": "oauth2",
        "flows": {
            "clientCredentials": {"tokenUrl": TOKEN, "scopes": {"read": "r"}},
            "password": {"tokenUrl": TOKEN, "scopes": {"write": "w"}},
        },
    },
    "bare": {"type": "oauth2", "flows": {"clientCredentials": {"tokenUrl": TOKEN, "scopes": {}}}},
    "oidc": {"type": "openIdConnect", "openIdConnectUrl": "https://x/.well-known"},
}


def test_fires_on_undeclared_scopes() -> None:
    doc = spec(
        {"/a": {"get": {"security": [{"oauth": ["read", "admni", "admni"]}], "responses": OK}}},
        components={"securitySchemes": SCHEMES},
    )
    hits = run(RULE, doc)
    assert [(h.location.pointer, h.message) for h in hits] == [
        (
            "/paths/~1a/get/security/0",
            "security requirement asks for undeclared scope(s) admni of oauth",
        )
    ]


def test_quiet_on_declared_scopes_from_any_flow_and_on_openid_connect() -> None:
    doc = spec(
        {
            "/a": {
                "get": {
                    "security": [{"oauth": ["read", "write"], "oidc": ["email"], "bare": ["x"]}],
                    "responses": OK,
                }
            }
        },
        components={"securitySchemes": SCHEMES},
    )
    assert run(RULE, doc) == []
