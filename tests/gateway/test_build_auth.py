"""Authenticators from the config, per spec scheme: what is built, what is refused."""

from __future__ import annotations

import pytest

from apiward.config.gateway_api import ApiSection
from apiward.core import load
from apiward.demo import demo_file
from apiward.errors import ConfigError
from apiward.gateway.auth_jwt import JwtVerifier
from apiward.gateway.auth_keys import ApiKeyAuth, ApiKeyStore
from apiward.gateway.build_auth import build_authenticators

DOC = load(demo_file("openapi.yaml"))
KEYS = ApiKeyStore("p" * 40)
JWT = {"bearerAuth": {"keys": [{"secret": "s" * 40, "algorithms": ["HS256"]}]}}


def _section(**auth: object) -> ApiSection:
    return ApiSection.model_validate(
        {"name": "bank", "spec": "x", "upstream": {"targets": ["http://127.0.0.1:9"]}, "auth": auth}
    )


def test_each_configured_scheme_gets_its_authenticator() -> None:
    built = build_authenticators(DOC, _section(jwt=JWT), KEYS, where="api")
    assert isinstance(built.authenticators["bearerAuth"], JwtVerifier)
    # the demo's partner key travels in the query string: refused unless the operator agrees
    assert "partnerKey" in built.unconfigured and "partnerKey" not in built.authenticators
    assert {"basicAuth", "partnerOAuth"} <= set(built.unconfigured)


def test_query_api_keys_need_the_operators_consent() -> None:
    built = build_authenticators(
        DOC, _section(jwt=JWT, **{"api-keys-in-query": True}), KEYS, where="api"
    )
    assert isinstance(built.authenticators["partnerKey"], ApiKeyAuth)


def test_a_scheme_the_spec_lacks_is_named() -> None:
    with pytest.raises(ConfigError, match="no security scheme 'bearer'"):
        build_authenticators(DOC, _section(jwt={"bearer": JWT["bearerAuth"]}), KEYS, where="api")


def test_a_weak_hmac_secret_is_refused() -> None:
    weak = {"bearerAuth": {"keys": [{"secret": "secret", "algorithms": ["HS256"]}]}}
    with pytest.raises(ConfigError) as caught:
        build_authenticators(DOC, _section(jwt=weak), KEYS, where="api")
    assert caught.value.key == "api.auth.jwt.bearerAuth"
