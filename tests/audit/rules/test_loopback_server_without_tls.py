from tests.audit.conftest import run, spec

RULE = "loopback-server-without-tls"


def test_fires_on_local_plain_http() -> None:
    doc = spec(
        servers=[
            {"url": "http://localhost:8080"},
            {"url": "http://127.0.0.1"},
            {"url": "http://[::1]:3000/api"},
            {"url": "http://{host}:8000", "variables": {"host": {"default": "localhost"}}},
            {"url": "http://api.example.com"},
        ]
    )
    hits = run(RULE, doc)
    assert [(h.location.pointer, h.message) for h in hits] == [
        ("/servers/0", "local server http://localhost:8080 uses plain HTTP"),
        ("/servers/1", "local server http://127.0.0.1 uses plain HTTP"),
        ("/servers/2", "local server http://[::1]:3000/api uses plain HTTP"),
        ("/servers/3", "local server http://{host}:8000 uses plain HTTP"),
    ]


def test_quiet_on_local_https() -> None:
    assert run(RULE, spec(servers=[{"url": "https://localhost:8443"}])) == []
