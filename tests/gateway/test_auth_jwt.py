"""JwtVerifier with static keys: real tokens minted with joserfc, and the classic attacks."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import warnings
from typing import Any

import pytest
from joserfc import jwk, jwt

from apiward.errors import ConfigError
from apiward.gateway.auth_common import AuthRequest, InvalidCredentials, Principal
from apiward.gateway.auth_jwt import JwtKey, JwtVerifier

NOW = 1_750_000_000.0
SECRET = b"s" * 32
AUD, ISS = "https://api.example", "https://idp.example"


class Clock:
    def __init__(self, now: float = NOW) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


RSA = jwk.RSAKey.generate_key(2048)
RSA_PEM = RSA.as_pem(private=False)
EC = jwk.ECKey.generate_key("P-256")
ED = jwk.OKPKey.generate_key("Ed25519")


def claims(**over: Any) -> dict[str, Any]:
    base = {"sub": "alice", "aud": AUD, "iss": ISS, "exp": NOW + 600, "iat": NOW - 1}
    base.update({"scope": "read write", "roles": ["teller"]})
    base.update(over)
    return {k: v for k, v in base.items() if v is not None}


def mint(key: Any, alg: str, kid: str | None = None, **over: Any) -> str:
    header = {"alg": alg} | ({"kid": kid} if kid else {})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # joserfc deprecates "EdDSA" (RFC 9864); IdPs still send it
        return jwt.encode(header, claims(**over), key, algorithms=[alg])


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def forge_hs(header: dict[str, Any], body: dict[str, Any], secret: bytes) -> str:
    """Sign by hand, as an attacker does (joserfc rightly refuses a PEM as HMAC secret)."""
    signing = f"{b64(json.dumps(header).encode())}.{b64(json.dumps(body).encode())}"
    sig = hmac.new(secret, signing.encode(), hashlib.sha256).digest()
    return f"{signing}.{b64(sig)}"


def verifier(*keys: JwtKey, **kw: Any) -> JwtVerifier:
    kw.setdefault("clock", Clock())
    return JwtVerifier(list(keys), audience=AUD, issuer=ISS, **kw)


STATIC = (
    JwtKey(SECRET, ("HS256",), kid="hs"),
    JwtKey(RSA_PEM, ("RS256", "PS256"), kid="rsa"),
    JwtKey(EC.as_dict(private=False), ("ES256",), kid="ec"),
    JwtKey(ED.as_pem(private=False), ("EdDSA", "Ed25519"), kid="ed"),
)


def verify(v: JwtVerifier, token: str) -> Principal:
    return asyncio.run(v.verify(token))


def reason(v: JwtVerifier, token: str) -> str:
    with pytest.raises(InvalidCredentials) as info:
        verify(v, token)
    assert token not in str(info.value)
    return info.value.reason


@pytest.mark.parametrize(
    ("key", "alg", "kid"),
    [
        (jwk.OctKey.import_key(SECRET), "HS256", "hs"),
        (RSA, "RS256", "rsa"),
        (RSA, "PS256", "rsa"),
        (EC, "ES256", "ec"),
        (ED, "EdDSA", "ed"),
        (ED, "Ed25519", "ed"),
    ],
)
def test_valid_tokens_of_each_family_verify(key: Any, alg: str, kid: str) -> None:
    principal = verify(verifier(*STATIC), mint(key, alg, kid))
    assert principal.subject == "alice"
    assert principal.scopes == {"read", "write"}
    assert principal.roles == {"teller"}
    assert principal.claims["aud"] == AUD
    assert principal.scheme == "bearer"


def test_token_without_kid_is_tried_against_keys_allowing_its_alg() -> None:
    v = verifier(JwtKey(RSA_PEM, ("RS256",)))
    assert verify(v, mint(RSA, "RS256")).subject == "alice"


@pytest.mark.parametrize(
    ("over", "expected"),
    [
        ({"exp": NOW - 31}, "expired"),
        ({"nbf": NOW + 31}, "not_yet_valid"),
        ({"iat": NOW + 3600}, "not_yet_valid"),
        ({"aud": "https://other.example"}, "wrong_audience"),
        ({"aud": ["https://other.example"]}, "wrong_audience"),
        ({"aud": None}, "wrong_audience"),
        ({"iss": "https://evil.example"}, "wrong_issuer"),
        ({"exp": None}, "missing_claim"),
        ({"exp": "tomorrow"}, "malformed"),
        ({"exp": 10**400}, "malformed"),
        ({"nbf": True}, "malformed"),
        ({"sub": 42}, "malformed"),
    ],
)
def test_claims_are_enforced(over: dict[str, Any], expected: str) -> None:
    assert reason(verifier(*STATIC), mint(RSA, "RS256", "rsa", **over)) == expected


def test_leeway_tolerates_small_clock_skew() -> None:
    v = verifier(*STATIC, leeway=30)
    assert verify(v, mint(RSA, "RS256", "rsa", exp=NOW - 10, nbf=NOW + 10)).subject == "alice"


def test_audience_list_matches_any_and_required_claims_are_checked() -> None:
    v = verifier(*STATIC, required_claims=("exp", "sub", "jti"))
    assert reason(v, mint(RSA, "RS256", "rsa", aud=["x", AUD])) == "missing_claim"
    assert verify(v, mint(RSA, "RS256", "rsa", aud=["x", AUD], jti="1")).subject == "alice"


def test_alg_none_is_refused() -> None:
    body = b64(json.dumps(claims()).encode())
    for alg in ("none", "None", "NONE"):
        head = b64(json.dumps({"alg": alg, "kid": "hs"}).encode())
        assert reason(verifier(*STATIC), f"{head}.{body}.") == "alg_not_allowed"
        assert reason(verifier(*STATIC), f"{head}.{body}.{b64(b'x')}") == "alg_not_allowed"


def test_hs256_signed_with_the_rsa_public_key_is_refused() -> None:
    # key confusion: the public PEM used as an HMAC secret
    v = verifier(JwtKey(RSA_PEM, ("RS256",), kid="rsa"))
    for header in ({"alg": "HS256", "kid": "rsa"}, {"alg": "HS256"}):
        assert reason(v, forge_hs(header, claims(), RSA_PEM)) == "alg_not_allowed"
    # even when HS256 is allowed for another key, the RSA key never verifies HMAC
    v = verifier(*STATIC)
    assert reason(v, forge_hs({"alg": "HS256", "kid": "rsa"}, claims(), RSA_PEM)) in {
        "unknown_kid",
        "alg_not_allowed",
        "bad_signature",
    }


def test_alg_outside_the_keys_allow_list_is_refused() -> None:
    v = verifier(JwtKey(RSA_PEM, ("RS256",), kid="rsa"))
    assert reason(v, mint(RSA, "PS256", "rsa")) == "alg_not_allowed"


def test_tampered_payload_and_signature_are_refused() -> None:
    v = verifier(*STATIC)
    token = mint(RSA, "RS256", "rsa")
    head, body, sig = token.split(".")
    evil = b64(json.dumps(claims(sub="admin")).encode())
    assert reason(v, f"{head}.{evil}.{sig}") == "bad_signature"
    flipped = sig[:-2] + ("A" if sig[-2] != "A" else "B") + sig[-1]
    assert reason(v, f"{head}.{body}.{flipped}") == "bad_signature"
    assert reason(v, mint(jwk.OctKey.import_key(b"t" * 32), "HS256", "hs")) == "bad_signature"


def test_unknown_kid_and_garbage_are_refused() -> None:
    v = verifier(*STATIC)
    assert reason(v, mint(RSA, "RS256", "nope")) == "unknown_kid"
    for junk in ("abc", "a.b.c", "a.b.c.d.e", b64(b"[1]") + ".e30.", "x" * 9000):
        assert reason(v, junk) == "malformed"


def test_key_headers_in_the_token_are_never_trusted() -> None:
    attacker = jwk.RSAKey.generate_key(2048)
    header = {"alg": "RS256", "jwk": attacker.as_dict(private=False)}
    token = jwt.encode(header, claims(), attacker, algorithms=["RS256"])
    assert reason(verifier(*STATIC), token) == "unknown_kid"
    assert reason(verifier(JwtKey(RSA_PEM, ("RS256",))), token) == "bad_signature"
    header = {"alg": "RS256", "kid": "rsa", "jwk": attacker.as_dict(private=False)}
    token = jwt.encode(header, claims(), attacker, algorithms=["RS256"])
    assert reason(verifier(*STATIC), token) == "bad_signature"


def test_crit_header_with_unknown_extension_is_refused() -> None:
    token = forge_hs(
        {"alg": "HS256", "kid": "hs", "crit": ["x-magic"], "x-magic": 1}, claims(), SECRET
    )
    assert reason(verifier(*STATIC), token) == "malformed"


def test_verified_tokens_are_cached_and_skip_verification(monkeypatch: pytest.MonkeyPatch) -> None:
    clock = Clock()
    v = verifier(*STATIC, clock=clock)
    calls = []
    real = v._check_signature
    monkeypatch.setattr(v, "_check_signature", lambda *a: calls.append(1) or real(*a))
    token = mint(RSA, "RS256", "rsa", exp=NOW + 100)

    async def go() -> list[Principal]:
        return [await v.verify(token) for _ in range(5)]

    assert len({id(p) for p in asyncio.run(go())}) == 1
    assert len(calls) == 1 and v.cached == 1
    clock.now = NOW + 100 + 31  # past exp and leeway: the cache must not outlive the token
    assert reason(v, token) == "expired"
    assert len(calls) == 2


def test_the_cache_is_lru_bounded_and_ttl_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    clock = Clock()
    v = verifier(*STATIC, clock=clock, cache_size=2, cache_ttl=10)
    calls = []
    real = v._check_signature
    monkeypatch.setattr(v, "_check_signature", lambda *a: calls.append(1) or real(*a))
    tokens = [mint(RSA, "RS256", "rsa", jti=str(i)) for i in range(3)]
    for t in tokens:
        verify(v, t)
    assert v.cached == 2
    verify(v, tokens[2])
    assert len(calls) == 3
    verify(v, tokens[0])  # evicted, verified again
    assert len(calls) == 4
    clock.now += 11
    verify(v, tokens[0])  # cache_ttl passed
    assert len(calls) == 5


def test_failures_are_not_cached() -> None:
    v = verifier(*STATIC)
    reason(v, mint(RSA, "RS256", "rsa", aud="nope"))
    assert v.cached == 0


def test_authenticate_reads_the_bearer_header() -> None:
    v = verifier(*STATIC)
    token = mint(RSA, "RS256", "rsa")

    def auth(headers: list[tuple[str, str]]) -> Principal | None:
        return asyncio.run(v.authenticate(AuthRequest(headers)))

    assert auth([]) is None
    assert auth([("Authorization", "Basic dTpw")]) is None
    assert auth([("Authorization", f"Bearer {token}")]) is not None
    assert auth([("authorization", f"bearer  {token} ")]) is not None
    with pytest.raises(InvalidCredentials, match="more than once"):
        auth([("Authorization", f"Bearer {token}"), ("Authorization", "Bearer x.y.z")])
    with pytest.raises(InvalidCredentials) as info:
        auth([("Authorization", "Bearer a b")])
    assert info.value.reason == "malformed"


@pytest.mark.parametrize(
    ("key", "message"),
    [
        (JwtKey(RSA_PEM, ("HS256",)), "public key"),
        (JwtKey(b"short", ("HS256",)), "too short"),
        (JwtKey(b"x" * 32, ("HS512",)), "too short"),
        (JwtKey(RSA_PEM, ("ES256",)), "not a usable EC key"),
        (JwtKey(RSA_PEM, ("RS256", "HS256")), "several types"),
        (JwtKey(RSA_PEM, ("none",)), "unsupported"),
        (JwtKey(RSA_PEM, ()), "list the algorithms"),
        (JwtKey(b"-----BEGIN junk", ("RS256",)), "not a usable"),
        (JwtKey(EC.as_dict(private=False), ("ES384",)), "cannot verify"),
        (JwtKey(EC.as_dict(private=False) | {"use": "enc"}, ("ES256",)), "contradict"),
        (JwtKey(RSA.as_dict(private=False) | {"alg": "RS512"}, ("RS256",)), "contradict"),
    ],
)
def test_unsafe_key_configurations_are_refused(key: JwtKey, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        verifier(key)


def test_audience_must_be_configured_or_waived() -> None:
    with pytest.raises(ConfigError, match="audience"):
        JwtVerifier([JwtKey(SECRET, ("HS256",))])
    JwtVerifier([JwtKey(SECRET, ("HS256",))], require_audience=False)
    with pytest.raises(ConfigError, match="configure keys"):
        JwtVerifier([], audience=AUD)
    with pytest.raises(ConfigError, match="https"):
        JwtVerifier(jwks_url="http://idp.example/jwks", audience=AUD)


def test_secrets_stay_out_of_reprs() -> None:
    assert "sss" not in repr(JwtKey(SECRET, ("HS256",), kid="hs"))


def test_roles_from_a_nested_claim_and_scp_lists() -> None:
    v = verifier(*STATIC, roles_claim="realm_access.roles")
    token = mint(RSA, "RS256", "rsa", scope=None, scp=["a", "b"], realm_access={"roles": ["x"]})
    principal = verify(v, token)
    assert principal.scopes == {"a", "b"} and principal.roles == {"x"}
