"""Roles and claims mapped to operations: least privilege beyond the spec's scopes."""

from __future__ import annotations

import pytest

from apiward.core import load
from apiward.demo import demo_file
from apiward.errors import ConfigError
from apiward.gateway.auth_jwt import JwtKey, JwtVerifier
from apiward.gateway.chain import ApiSetup
from apiward.gateway.policies import AccessRule, Authentication, Authorization
from tests.gateway.policies.conftest import ISSUER, KEY, bank, bearer


def test_a_user_is_refused_an_admin_operation_and_an_admin_is_not() -> None:
    setup = ApiSetup("bank", load(demo_file("openapi.yaml")))
    verifier = JwtVerifier(
        [JwtKey(KEY, ("HS256",))], issuer=ISSUER, require_audience=False, roles_claim="role"
    )
    chain = [
        Authentication(setup, {"bearerAuth": verifier}),
        Authorization(
            setup,
            [
                AccessRule(("adminListUsers", "adminSetRole"), frozenset({"admin"})),
                AccessRule(("GET /statements",), claims={"tier": ("gold",)}),
            ],
        ),
    ]
    with bank(policies=chain) as client:
        r = client.get("/admin/users", headers=bearer())
        assert (r.status_code, r.json()["reason"]) == (403, "role_required")
        assert client.get("/admin/users", headers=bearer("admin", 3, "admin")).status_code == 200
        assert client.get("/statements", headers=bearer()).status_code == 403
        assert client.get("/statements", headers=bearer(tier="gold")).status_code == 200
        # operations no rule covers are unaffected
        assert client.get("/accounts", headers=bearer()).status_code == 200


def test_a_rule_naming_no_operation_is_a_config_error() -> None:
    setup = ApiSetup("bank", load(demo_file("openapi.yaml")))
    with pytest.raises(ConfigError, match="no operation"):
        Authorization(setup, [AccessRule(("adminListUser",), frozenset({"admin"}))])
