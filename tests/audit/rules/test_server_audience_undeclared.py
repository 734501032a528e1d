from tests.audit.conftest import run, spec

RULE = "server-audience-undeclared"
OK = {"200": {"description": "ok"}}


def test_fires_on_servers_without_a_boolean_x_internal() -> None:
    doc = spec(
        {"/a": {"get": {"servers": [{"url": "https://ops.example.com"}], "responses": OK}}},
        servers=[
            {"url": "https://api.example.com"},
            {"url": "https://int.example.com", "x-internal": "yes"},
            {"url": "https://ok.example.com", "x-internal": False},
        ],
    )
    hits = run(RULE, doc)
    assert [(h.location.pointer, h.message) for h in hits] == [
        (
            "/servers/0",
            "server https://api.example.com does not say whether it is internal (x-internal)",
        ),
        ("/servers/1", "server https://int.example.com has x-internal 'yes', not true or false"),
        (
            "/paths/~1a/get/servers/0",
            "server https://ops.example.com does not say whether it is internal (x-internal)",
        ),
    ]


def test_quiet_when_declared() -> None:
    doc = spec(
        servers=[
            {"url": "https://api.example.com", "x-internal": False},
            {"url": "https://int.example.com", "x-internal": True},
        ]
    )
    assert run(RULE, doc) == []
