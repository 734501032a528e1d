from tests.audit.conftest import run, spec

RULE = "public-read-operation"
OK = {"200": {"description": "ok"}}
SCHEMES = {"securitySchemes": {"key": {"type": "apiKey", "in": "header", "name": "X-Key"}}}
SECURED = {"responses": OK}


def test_fires_on_explicitly_public_reads() -> None:
    doc = spec(
        {
            "/users": {"get": {"security": [], "responses": OK}},
            "/orders": {"head": {"security": [{}], "responses": OK}},
            "/a": {"get": SECURED},
            "/b": {"get": SECURED},
            "/c": {"get": SECURED},
        },
        security=[{"key": []}],
        components=SCHEMES,
    )
    hits = run(RULE, doc)
    assert [(h.location.pointer, h.message) for h in hits] == [
        ("/paths/~1users/get", "GET /users is explicitly public"),
        ("/paths/~1orders/head", "HEAD /orders is explicitly public"),
    ]


def test_mostly_public_api_is_one_finding() -> None:
    public = {"get": {"security": [], "responses": OK}}
    doc = spec(
        {"/a": public, "/b": public, "/c": {"get": SECURED}},
        security=[{"key": []}],
        components=SCHEMES,
    )
    hits = run(RULE, doc)
    assert [(h.location.pointer, h.message) for h in hits] == [
        ("/paths", "2 of 3 read operations are explicitly public")
    ]


def test_anonymous_only_global_security_is_one_finding() -> None:
    doc = spec({"/a": {"get": {"responses": OK}}}, security=[{}])
    hits = run(RULE, doc)
    assert [(h.location.pointer, h.message) for h in hits] == [
        (
            "/security",
            "global security accepts only anonymous callers, making 1 read operation(s) public",
        )
    ]


def test_quiet_on_optional_auth_health_checks_and_undeclared() -> None:
    doc = spec(
        {
            "/users": {"get": {"security": [{}, {"key": []}], "responses": OK}},
            "/health": {"get": {"security": [], "responses": OK}},
            "/.well-known/jwks.json": {"get": {"security": [], "responses": OK}},
            "/v1/openapi.json": {"get": {"security": [], "responses": OK}},
            "/users/{id}": {"get": SECURED, "post": {"security": [], "responses": OK}},
        },
        security=[{"key": []}],
        components=SCHEMES,
    )
    assert run(RULE, doc) == []
    assert run(RULE, spec({"/users": {"get": {"responses": OK}}})) == []
