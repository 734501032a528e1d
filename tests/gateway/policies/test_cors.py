"""CORS as a policy: preflights answered by the gateway, the upstream's reflection removed."""

from __future__ import annotations

from apiward.core import load
from apiward.demo import demo_file
from apiward.gateway.auth_jwt import JwtKey, JwtVerifier
from apiward.gateway.chain import ApiSetup
from apiward.gateway.cors import CorsPolicy
from apiward.gateway.policies import Authentication, Cors
from tests.gateway.policies.conftest import ISSUER, KEY, bank, bearer

SETUP = ApiSetup("bank", load(demo_file("openapi.yaml")))
APP = "https://app.example.com"


def _chain(origins: list[str]) -> list[object]:

    verifier = JwtVerifier([JwtKey(KEY, ("HS256",))], issuer=ISSUER, require_audience=False)
    return [
        Cors(CorsPolicy(origins, allow_credentials=True)),
        Authentication(SETUP, {"bearerAuth": verifier}),
    ]


def test_the_upstreams_reflected_origin_does_not_pass() -> None:
    # the vulnerable demo reflects any Origin with credentials; no origin is listed here
    with bank(policies=_chain([])) as client:
        r = client.get("/users/me", headers={**bearer(), "Origin": "https://evil.example"})
    assert r.status_code == 200
    assert "access-control-allow-origin" not in r.headers
    assert "access-control-allow-credentials" not in r.headers
    assert "Origin" in r.headers["vary"]


def test_a_listed_origin_gets_its_grant_and_a_preflight_answer() -> None:
    with bank(policies=_chain([APP])) as client:
        r = client.get("/users/me", headers={**bearer(), "Origin": APP})
        assert r.headers["access-control-allow-origin"] == APP
        pre = client.options(
            "/accounts/1",
            headers={"Origin": APP, "Access-Control-Request-Method": "PATCH"},
        )
        assert pre.status_code == 204
        assert "PATCH" in pre.headers["access-control-allow-methods"]
        evil = client.options(
            "/accounts/1",
            headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "PATCH"},
        )
        assert evil.status_code == 403
        undeclared = client.options(
            "/accounts/1", headers={"Origin": APP, "Access-Control-Request-Method": "DELETE"}
        )
        assert undeclared.status_code == 403  # the spec declares no DELETE there
        # a plain OPTIONS (not a preflight) is still refused by routing
        assert client.options("/accounts/1").status_code == 405
