from tests.audit.conftest import run, spec

RULE = "public-write-operation"
OK = {"200": {"description": "ok"}}
SCHEMES = {"securitySchemes": {"key": {"type": "apiKey", "in": "header", "name": "X-Key"}}}


def test_fires_on_explicitly_anonymous_writes() -> None:
    doc = spec(
        {
            "/users": {
                "post": {"security": [], "responses": OK},
                "get": {"security": [], "responses": OK},
            },
            "/users/{id}": {"delete": {"security": [{}, {"key": []}], "responses": OK}},
            "/auth/users": {"post": {"security": [{"key": []}, {}], "responses": OK}},
        },
        security=[{"key": []}],
        components=SCHEMES,
    )
    hits = run(RULE, doc)
    assert [(h.location.pointer, h.message) for h in hits] == [
        ("/paths/~1users/post", "POST /users is explicitly public (security: [])"),
        (
            "/paths/~1users~1{id}/delete",
            "DELETE /users/{id} accepts anonymous callers (an empty {} security)",
        ),
        (
            "/paths/~1auth~1users/post",
            "POST /auth/users accepts anonymous callers (an empty {} security)",
        ),
    ]


def test_anonymous_global_security_is_one_finding() -> None:
    doc = spec(
        {
            "/a": {"post": {"responses": OK}, "get": {"responses": OK}},
            "/b": {"put": {"responses": OK}},
            "/c": {"patch": {"security": [{"key": []}], "responses": OK}},
        },
        security=[{}, {"key": []}],
        components=SCHEMES,
    )
    hits = run(RULE, doc)
    assert [(h.location.pointer, h.message) for h in hits] == [
        (
            "/security",
            "global security accepts anonymous callers, leaving 2 write operation(s) open",
        )
    ]
    assert [u.key for u in hits[0].usages or ()] == ["POST /a", "PUT /b"]


def test_quiet_on_protected_writes_login_and_undeclared_security() -> None:
    doc = spec(
        {
            "/users": {"post": {"responses": OK}},
            "/auth/login": {"post": {"security": [], "responses": OK}},
            "/oauth/token": {"post": {"security": [], "responses": OK}},
            "/password-reset": {"post": {"security": [], "responses": OK}},
            "/auth/password-reset/confirm": {"post": {"security": [], "responses": OK}},
        },
        security=[{"key": []}],
        components=SCHEMES,
    )
    assert run(RULE, doc) == []
    # nothing declared at all: operation-without-security reports it, not this rule
    assert run(RULE, spec({"/users": {"post": {"responses": OK}}})) == []
