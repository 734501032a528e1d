from typing import Any

from tests.audit.conftest import run, spec

RULE = "credentials-in-url"
OK = {"200": {"description": "ok"}}


def p(name: str, where: str = "query", kind: str = "string") -> dict[str, Any]:
    return {"name": name, "in": where, "schema": {"type": kind}}


def test_fires_on_credentials_in_query_path_and_server() -> None:
    doc = spec(
        {
            "/reset/{resetToken}": {
                "get": {
                    "parameters": [
                        p("resetToken", "path"),
                        p("access_token"),
                        p("api_key"),
                        p("apikey"),
                        p("token"),
                        p("password"),
                        p("client_secret"),
                        p("jsessionid"),
                    ],
                    "responses": OK,
                }
            }
        },
        servers=[{"url": "https://bob:hunter2@api.example.com"}],
    )
    hits = run(RULE, doc)
    base = "/paths/~1reset~1{resetToken}/get/parameters/"
    assert [h.location.pointer for h in hits] == [base + str(i) for i in range(8)] + ["/servers/0"]
    assert hits[0].message == "path parameter resetToken puts a credential in the URL"
    assert hits[1].message == "query parameter access_token puts a credential in the URL"
    assert hits[-1].message == "server URL contains a user name and password"


def test_quiet_on_lookalikes_headers_and_api_key_schemes() -> None:
    doc = spec(
        {
            "/tokens/{tokenId}": {
                "get": {
                    "parameters": [
                        p("tokenId", "path"),
                        p("secretName"),
                        p("token_type"),
                        p("pageToken"),
                        p("next_token"),
                        p("csrf_token"),
                        p("include_secrets", kind="boolean"),
                        p("password_min_length", kind="integer"),
                        p("Authorization", "header"),
                        p("key"),
                        p("api_key"),  # restates the apiKey scheme: api-key-in-query reports it
                    ],
                    "responses": OK,
                }
            }
        },
        servers=[{"url": "https://api.example.com"}],
        components={"securitySchemes": {"k": {"type": "apiKey", "in": "query", "name": "api_key"}}},
    )
    assert run(RULE, doc) == []
