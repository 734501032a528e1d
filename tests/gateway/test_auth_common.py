"""evaluate_requirements: OR of ANDs with scopes, deny by default, with real authenticators."""

from __future__ import annotations

import asyncio
from typing import Any

from joserfc import jwk

from apiward.core import SecurityRequirement, loads
from apiward.gateway.auth_common import (
    ANONYMOUS,
    AuthRequest,
    Denial,
    Principal,
    evaluate_requirements,
)
from apiward.gateway.auth_jwt import JwtKey, JwtVerifier
from apiward.gateway.auth_keys import ApiKeyAuth, ApiKeyStore
from tests.gateway.test_auth_jwt import AUD, SECRET, Clock, mint

STORE = ApiKeyStore(b"p" * 32)
KEY, _ = STORE.generate_key("svc", owner="svc-a", scopes=["admin"])
HS = jwk.OctKey.import_key(SECRET)
READER = mint(HS, "HS256", iss=None, scope="read")
WRITER = mint(HS, "HS256", iss=None, scope="read write", sub="wendy")
EXPIRED = mint(HS, "HS256", iss=None, exp=1)


class Broken:
    async def authenticate(self, request: AuthRequest) -> Principal | None:
        raise RuntimeError("boom")


AUTHS: dict[str, Any] = {
    "apiKey": ApiKeyAuth(STORE, name="X-API-Key"),
    "bearer": JwtVerifier([JwtKey(SECRET, ("HS256",))], audience=AUD, clock=Clock()),
    "broken": Broken(),
}


def req(*schemes: dict[str, list[str]]) -> list[SecurityRequirement]:
    return [SecurityRequirement({k: tuple(v) for k, v in s.items()}) for s in schemes]


def decide(
    requirements: list[SecurityRequirement],
    key: str | None = None,
    token: str | None = None,
    **kw: Any,
) -> Principal | Denial:
    headers = [("X-API-Key", key)] if key else []
    headers += [("Authorization", f"Bearer {token}")] if token else []
    return asyncio.run(evaluate_requirements(requirements, AUTHS, AuthRequest(headers), **kw))


def denied(outcome: Principal | Denial, status: int, reason: str) -> None:
    assert isinstance(outcome, Denial), outcome
    assert (outcome.status, outcome.reason) == (status, reason)


def test_or_any_alternative_suffices() -> None:
    rule = req({"apiKey": []}, {"bearer": ["read"]})
    by_key = decide(rule, key=KEY)
    assert isinstance(by_key, Principal) and by_key.scheme == "apiKey"
    by_token = decide(rule, token=READER)
    assert isinstance(by_token, Principal) and by_token.scheme == "bearer"
    denied(decide(rule), 401, "missing_credentials")


def test_and_every_scheme_of_the_alternative_is_required() -> None:
    rule = req({"apiKey": [], "bearer": ["read"]})
    denied(decide(rule, key=KEY), 401, "missing_credentials")
    denied(decide(rule, token=READER), 401, "missing_credentials")
    both = decide(rule, key=KEY, token=WRITER)
    assert isinstance(both, Principal)
    assert both.scheme == "apiKey+bearer" and both.subject == "svc-a"
    assert [p.scheme for p in both.parts] == ["apiKey", "bearer"]
    assert both.scopes == {"admin", "read", "write"}
    denied(decide(rule, key=KEY + "x", token=WRITER), 401, "unknown_key")


def test_scopes_are_checked_per_scheme() -> None:
    rule = req({"bearer": ["read", "write"]})
    denied(decide(rule, token=READER), 403, "insufficient_scope")
    assert isinstance(decide(rule, token=WRITER), Principal)
    # an API key's grants do not lend scopes to the token of the same alternative
    rule = req({"apiKey": [], "bearer": ["admin"]})
    denied(decide(rule, key=KEY, token=WRITER), 403, "insufficient_scope")


def test_a_role_grants_a_listed_scope_too() -> None:
    auditor = mint(HS, "HS256", iss=None, scope="read", roles=["auditor"])
    assert isinstance(decide(req({"bearer": ["auditor"]}), token=auditor), Principal)
    assert isinstance(decide(req({"bearer": ["read", "auditor"]}), token=auditor), Principal)
    denied(decide(req({"bearer": ["auditor", "write"]}), token=auditor), 403, "insufficient_scope")
    # a first alternative short of a scope leaves the others to decide
    rule = req({"bearer": ["write"]}, {"bearer": ["read"]})
    assert isinstance(decide(rule, token=auditor), Principal)


def test_refused_credentials_are_reported_over_missing_ones() -> None:
    rule = req({"apiKey": []}, {"bearer": []})
    denied(decide(rule, token=EXPIRED), 401, "expired")


def test_anonymous_alternative_admits_only_callers_without_bad_credentials() -> None:
    rule = req({"bearer": ["read"]}, {})
    assert decide(rule) is ANONYMOUS
    assert isinstance(decide(rule, token=READER), Principal)
    denied(decide(rule, token=EXPIRED), 401, "expired")
    # the bad token sits behind a missing key in the same alternative: still refused
    rule = req({"apiKey": [], "bearer": []}, {})
    assert decide(rule) is ANONYMOUS
    denied(decide(rule, token=EXPIRED), 401, "expired")


def test_empty_requirements_deny_unless_unsecured_is_allowed() -> None:
    denied(decide([]), 401, "no_security")
    assert decide([], allow_unsecured=True) is ANONYMOUS


def test_unknown_and_failing_schemes_deny() -> None:
    denied(decide(req({"oauth": []}), token=READER), 503, "scheme_not_configured")
    denied(decide(req({"broken": []}), token=READER), 503, "internal_error")
    assert isinstance(decide(req({"broken": []}, {"bearer": []}), token=READER), Principal)


def test_ambiguous_credentials_deny() -> None:
    headers = [("Authorization", f"Bearer {READER}"), ("Authorization", f"Bearer {WRITER}")]
    outcome = asyncio.run(evaluate_requirements(req({"bearer": []}), AUTHS, AuthRequest(headers)))
    denied(outcome, 401, "ambiguous")


def test_requirements_straight_from_a_spec() -> None:
    doc = loads(
        """
openapi: 3.0.3
info: {title: t, version: '1'}
security: [{bearer: [read]}]
paths:
  /a: {get: {responses: {'200': {description: ok}}}}
  /b: {post: {security: [{apiKey: [], bearer: [write]}], responses: {'200': {description: ok}}}}
components:
  securitySchemes:
    bearer: {type: http, scheme: bearer}
    apiKey: {type: apiKey, in: header, name: X-API-Key}
"""
    )
    ops = {op.path: op for op in doc.operations}
    assert isinstance(decide(ops["/a"].effective_security, token=READER), Principal)
    denied(decide(ops["/b"].effective_security, key=KEY, token=READER), 403, "insufficient_scope")
    assert isinstance(decide(ops["/b"].effective_security, key=KEY, token=WRITER), Principal)


def test_auth_request_from_an_asgi_scope() -> None:
    scope = {
        "headers": [(b"authorization", b"Bearer abc"), (b"cookie", b"a=1; b=2")],
        "query_string": b"k=1&k2=",
    }
    r = AuthRequest.from_scope(scope)
    assert r.tls_client is None
    assert r.header("Authorization") == "Bearer abc" and r.query("k") == "1"
    assert r.query("k2") == "" and r.query("x") is None
    assert r.cookie("b") == "2" and r.cookie("k") is None
