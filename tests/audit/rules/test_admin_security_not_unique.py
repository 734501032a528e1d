from tests.audit.conftest import run, spec

RULE = "admin-security-not-unique"
OK = {"200": {"description": "ok"}}
TOKEN = "https://auth.example.com/token"
SCHEMES = {
    "securitySchemes": {
        "key": {"type": "apiKey", "in": "header", "name": "X-Key"},
        "oauth": {
            "type": "oauth2",
            "flows": {
                "clientCredentials": {
                    "tokenUrl": TOKEN,
                    "scopes": {"read": "r", "write": "w", "admin": "a"},
                }
            },
        },
    }
}


def test_fires_when_regular_credentials_open_admin_operations() -> None:
    doc = spec(
        {
            "/users": {"get": {"security": [{"oauth": ["read", "write"]}], "responses": OK}},
            "/orders": {"get": {"responses": OK}},
            "/admin/users": {"delete": {"security": [{"oauth": ["write"]}], "responses": OK}},
            "/administration/stats": {"get": {"responses": OK}},
            "/reports": {"get": {"tags": ["Admin"], "responses": OK}},
        },
        security=[{"key": []}],
        components=SCHEMES,
    )
    hits = run(RULE, doc)
    assert [(h.location.pointer, h.message) for h in hits] == [
        (
            "/paths/~1admin~1users/delete",
            "admin operation DELETE /admin/users accepts the credentials of GET /users (oauth)",
        ),
        (
            "/paths/~1administration~1stats/get",
            "admin operation GET /administration/stats accepts the credentials of "
            "GET /orders (key)",
        ),
        (
            "/paths/~1reports/get",
            "admin operation GET /reports accepts the credentials of GET /orders (key)",
        ),
    ]


def test_quiet_when_admin_needs_its_own_scope_or_scheme() -> None:
    doc = spec(
        {
            "/users": {"get": {"security": [{"oauth": ["read", "write"]}], "responses": OK}},
            "/orders": {"get": {"security": [{"key": []}], "responses": OK}},
            "/admin/users": {"delete": {"security": [{"oauth": ["admin"]}], "responses": OK}},
            "/admin/keys": {"get": {"security": [{"key": [], "oauth": []}], "responses": OK}},
            "/admin/open": {"get": {"security": [], "responses": OK}},
        },
        components=SCHEMES,
    )
    assert run(RULE, doc) == []
