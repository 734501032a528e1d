from tests.audit.conftest import run, spec

RULE = "server-environment-undeclared"


def test_fires_on_servers_without_an_environment() -> None:
    doc = spec(
        servers=[
            {"url": "https://api.example.com"},
            {"url": "https://api.example.com/v2", "description": "Main server"},
            {"url": "https://devices.example.com"},
        ]
    )
    hits = run(RULE, doc)
    assert [(h.location.pointer, h.message) for h in hits] == [
        ("/servers/0", "server https://api.example.com does not name its environment"),
        ("/servers/1", "server https://api.example.com/v2 does not name its environment"),
        ("/servers/2", "server https://devices.example.com does not name its environment"),
    ]


def test_quiet_when_description_or_host_names_it() -> None:
    doc = spec(
        servers=[
            {"url": "https://api.example.com", "description": "Production"},
            {"url": "https://x.example.com", "description": "Development server"},
            {"url": "https://api.staging.example.com"},
            {"url": "https://sandbox-api.example.com"},
            {"url": "http://localhost:8080"},
        ]
    )
    assert run(RULE, doc) == []
