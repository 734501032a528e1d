from tests.audit.conftest import run, spec

RULE = "server-without-tls"
OK = {"200": {"description": "ok"}}


def test_fires_on_plain_http_and_ws_servers_once_each() -> None:
    doc = spec(
        {
            "/a": {"get": {"responses": OK}},
            "/b": {
                "get": {"servers": [{"url": "ws://events.example.com"}], "responses": OK},
            },
        },
        servers=[
            {"url": "http://api.example.com"},
            {"url": "HTTP://API2.example.com/v1"},
            {
                "url": "{scheme}://api.example.com",
                "variables": {"scheme": {"default": "https", "enum": ["https", "http"]}},
            },
        ],
    )
    hits = run(RULE, doc)
    assert [(h.location.pointer, h.message) for h in hits] == [
        ("/servers/0", "server http://api.example.com uses plain HTTP"),
        ("/servers/1", "server HTTP://API2.example.com/v1 uses plain HTTP"),
        ("/servers/2", "server {scheme}://api.example.com can use plain HTTP"),
        (
            "/paths/~1b/get/servers/0",
            "server ws://events.example.com uses unencrypted WebSocket (ws://)",
        ),
    ]
    assert [u.key for u in hits[0].usages or ()] == ["GET /a"]


def test_quiet_on_tls_relative_and_loopback_servers() -> None:
    doc = spec(
        {"/a": {"get": {"responses": OK}}},
        servers=[
            {"url": "https://api.example.com"},
            {"url": "wss://events.example.com"},
            {"url": "/v1"},
            {"url": "http://localhost:8080"},
            {"url": "http://127.0.0.1"},
            {"url": "http://[::1]:3000"},
            {"url": "{proto}://api.example.com", "variables": {"proto": {"default": "https"}}},
        ],
    )
    assert run(RULE, doc) == []
