"""authentication with the revocation list: revoked credentials refused, the rest not."""

from __future__ import annotations

import asyncio
from pathlib import Path

from apiward.core import load
from apiward.demo import demo_file
from apiward.gateway.auth_jwt import JwtKey, JwtVerifier
from apiward.gateway.chain import ApiSetup
from apiward.gateway.policies import Authentication
from apiward.gateway.revocations import Revocations
from apiward.gateway.revocations_store import FileRevocationStore
from tests.gateway.policies.conftest import ISSUER, KEY, bank, bearer


def _chain(revocations: Revocations) -> list[Authentication]:
    setup = ApiSetup("bank", load(demo_file("openapi.yaml")))
    verifier = JwtVerifier([JwtKey(KEY, ("HS256",))], issuer=ISSUER, require_audience=False)
    return [Authentication(setup, {"bearerAuth": verifier}, revocations=revocations)]


def test_a_revoked_token_is_refused_and_other_tokens_are_not(tmp_path: Path) -> None:
    revocations = Revocations(FileRevocationStore(tmp_path / "revoked.json"))
    assert asyncio.run(revocations.sync())
    leaked, other = bearer(jti="leaked-1"), bearer(jti="fine-2")
    with bank(policies=_chain(revocations)) as client:
        assert client.get("/accounts", headers=leaked).status_code == 200  # cached verify
        asyncio.run(revocations.revoke("token", "leaked-1"))
        r = client.get("/accounts", headers=leaked)
        assert (r.status_code, r.json()["reason"]) == (401, "token_revoked")
        assert "www-authenticate" in r.headers
        assert client.get("/accounts", headers=other).status_code == 200
        # a revoked subject: every token of bob's issued before it
        asyncio.run(revocations.revoke("subject", "bob", at=10**10))
        r = client.get("/accounts", headers=bearer("bob", 2))
        assert (r.status_code, r.json()["reason"]) == (401, "subject_revoked")


def test_an_unknown_revocation_state_refuses_with_503(tmp_path: Path) -> None:
    revocations = Revocations(FileRevocationStore(tmp_path / "revoked.json"))  # never synced
    with bank(policies=_chain(revocations)) as client:
        r = client.get("/accounts", headers=bearer())
        assert (r.status_code, r.json()["reason"]) == (503, "revocation_state_unknown")
        # an open operation asks for no credential, so it does not depend on the list
        login = client.post("/auth/login", json={"username": "alice", "password": "wrong"})
        assert login.status_code not in (503, 500) and "reason" not in login.json()
