"""The JWT attack toolkit: every forgery checked against a real JOSE library or HMAC."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import time
from importlib import resources
from typing import Any

import pytest
from joserfc import jwt as jose_jwt
from joserfc.errors import JoseError
from joserfc.jwk import OctKey, RSAKey

from apiward.demo.store import Store
from apiward.demo.tokens import Tokens
from apiward.scan.jwt_forge import (
    MAX_TOKEN_LENGTH,
    NONE_SPELLINGS,
    Jwt,
    crack_hs,
    escalate_claims,
    expired_claims,
    forge_none,
    key_confusion,
    looks_like_jwt,
    none_variants,
    parse,
    sign_hs,
    strip_signature,
    tamper_signature,
    weak_secrets,
    with_claims,
)

CLAIMS: dict[str, Any] = {
    "sub": "alice",
    "role": "user",
    "iat": 1_700_000_000,
    "exp": 1_900_000_000,
}


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def b64json(value: Any) -> str:
    return b64(json.dumps(value).encode())


def hs_token(secret: bytes, claims: dict[str, Any] = CLAIMS, alg: str = "HS256") -> str:
    """A token made by joserfc, not by the code under test."""
    key = OctKey(secret, secret)  # direct: import_key refuses the weak keys on purpose
    return jose_jwt.encode({"alg": alg, "typ": "JWT"}, claims, key, algorithms=[alg])


def jose_verifies(token: str, secret: bytes, alg: str = "HS256") -> bool:
    try:
        jose_jwt.decode(token, OctKey(secret, secret), algorithms=[alg])
    except (JoseError, ValueError):
        return False
    return True


def parsed(token: str) -> Jwt:
    jwt = parse(token)
    assert jwt is not None, token
    return jwt


def hmac_ok(token: str, secret: bytes, digest: Any = hashlib.sha256) -> bool:
    head, payload, signature = token.split(".")
    mac = hmac.new(secret, f"{head}.{payload}".encode(), digest).digest()
    return hmac.compare_digest(b64(mac), signature)


@pytest.fixture(scope="module")
def rsa_key() -> RSAKey:
    return RSAKey.generate_key(2048, {"kid": "k1"})


@pytest.fixture(scope="module")
def rs_token(rsa_key: RSAKey) -> str:
    return jose_jwt.encode({"alg": "RS256", "kid": "k1"}, CLAIMS, rsa_key, algorithms=["RS256"])


# ---------------------------------------------------------------- parse


def test_parse_reads_a_real_token() -> None:
    token = hs_token(b"secret")
    jwt = parsed(token)
    head, payload, signature = token.split(".")
    assert jwt.header == {"alg": "HS256", "typ": "JWT"}
    assert jwt.alg == "HS256"
    assert jwt.claims == CLAIMS
    assert jwt.signing_input == f"{head}.{payload}".encode()
    assert b64(jwt.signature) == signature
    assert jwt.raw == token
    assert parsed(f"  {token}\n").raw == token


def test_repr_keeps_the_token_out(rs_token: str) -> None:
    jwt = parsed(rs_token)
    text = repr(jwt)
    assert rs_token.split(".")[2] not in text
    assert "raw" not in text and "signature" not in text
    assert "alice" in text  # claims stay visible: they are what a finding talks about


def test_parse_accepts_an_unsigned_token() -> None:
    jwt = parsed(f"{b64json({'alg': 'none'})}.{b64json({'sub': 'x'})}.")
    assert jwt.alg == "none"
    assert jwt.signature == b""


GOOD_HEAD = b64json({"alg": "HS256"})
GOOD_BODY = b64json({"sub": "x"})


@pytest.mark.parametrize(
    "token",
    [
        "",
        "abc",
        "not a jwt at all",
        f"{GOOD_HEAD}.{GOOD_BODY}",  # 2 parts
        f"{GOOD_HEAD}.{GOOD_BODY}.sig.extra",  # 4 parts
        f"{GOOD_HEAD}.{GOOD_BODY}.a.b.c",  # 5 parts: a JWE, not a JWS
        f"{GOOD_HEAD}!.{GOOD_BODY}.abc",  # not base64url
        f"{GOOD_HEAD}.{GOOD_BODY}.ab+/",  # standard alphabet in the signature
        f"{GOOD_HEAD}=.{GOOD_BODY}.abc",  # padding
        f"{GOOD_HEAD}.{GOOD_BODY}.abcde",  # a length base64 cannot have
        f"{b64(b'hello')}.{GOOD_BODY}.abc",  # header not JSON
        f"{b64json(['alg', 'HS256'])}.{GOOD_BODY}.abc",  # header not an object
        f"{b64json({'typ': 'JWT'})}.{GOOD_BODY}.abc",  # no alg
        f"{b64json({'alg': 256})}.{GOOD_BODY}.abc",  # alg not a string
        f"{GOOD_HEAD}.{b64json('just a string')}.abc",  # payload not an object
        f"{GOOD_HEAD}.{b64(b'plain text payload')}.abc",  # payload not JSON
        f"{GOOD_HEAD}.{b64(bytes([0xFF, 0xFE, 0x7B]))}.abc",  # payload not UTF-8
        f".{GOOD_BODY}.abc",
        f"{GOOD_HEAD}..abc",
        "...",
    ],
)
def test_parse_rejects_garbage(token: str) -> None:
    assert parse(token) is None
    assert not looks_like_jwt(token)


def test_parse_rejects_input_over_64_kib_before_decoding() -> None:
    body = b64json({"sub": "x", "pad": "a" * MAX_TOKEN_LENGTH})
    huge = f"{GOOD_HEAD}.{body}.abc"
    assert len(huge) > MAX_TOKEN_LENGTH
    assert parse(huge) is None
    assert parse("." * (10 * MAX_TOKEN_LENGTH)) is None
    just_under = f"{GOOD_HEAD}.{b64json({'pad': 'a' * 40_000})}.abc"
    assert len(just_under) <= MAX_TOKEN_LENGTH
    assert parse(just_under) is not None


@pytest.mark.parametrize(
    "payload",
    [
        b"[" * 40_000,  # nesting deeper than the JSON parser recurses
        b'{"n": ' + b"9" * 5_000 + b"}",  # an integer over Python's digit limit
    ],
)
def test_parse_never_raises_on_hostile_json(payload: bytes) -> None:
    token = f"{GOOD_HEAD}.{b64(payload)}.abc"
    assert len(token) <= MAX_TOKEN_LENGTH
    assert parse(token) is None


def test_parse_refuses_a_non_string() -> None:
    assert parse(None) is None  # type: ignore[arg-type]
    assert parse(b"a.b.c") is None  # type: ignore[arg-type]


def test_looks_like_jwt() -> None:
    assert looks_like_jwt(hs_token(b"k"))
    assert not looks_like_jwt("Bearer")
    assert not looks_like_jwt("a.b.c")


# ---------------------------------------------------------------- alg none, signature


def test_forge_none_is_unsigned_and_merges_claims() -> None:
    jwt = parsed(hs_token(b"secret"))
    forged = forge_none(jwt, {"role": "admin", "extra": 1})
    assert forged.endswith(".") and forged.count(".") == 2
    out = parsed(forged)
    assert out.header == {"alg": "none", "typ": "JWT"}
    assert out.signature == b""
    assert out.claims == {**CLAIMS, "role": "admin", "extra": 1}
    assert parsed(forge_none(jwt)).claims == CLAIMS
    assert parsed(forge_none(jwt, alg_spelling="NoNe")).alg == "NoNe"
    assert not jose_verifies(forged, b"secret")


def test_none_variants_spell_none_four_ways() -> None:
    jwt = parsed(hs_token(b"secret"))
    variants = none_variants(jwt, {"role": "admin"})
    assert len(set(variants)) == 4
    assert [parsed(v).alg for v in variants] == list(NONE_SPELLINGS)
    assert NONE_SPELLINGS == ("none", "None", "NONE", "nOnE")
    for variant in variants:
        assert variant.endswith(".")
        assert parsed(variant).claims["role"] == "admin"


def test_strip_signature_keeps_the_original_header_and_payload() -> None:
    token = hs_token(b"secret")
    stripped = strip_signature(parsed(token))
    assert stripped == token.rsplit(".", 1)[0] + "."
    assert parsed(stripped).alg == "HS256"
    assert parsed(stripped).signature == b""


def test_tamper_signature_breaks_only_the_signature() -> None:
    token = hs_token(b"secret")
    jwt = parsed(token)
    tampered = tamper_signature(jwt)
    out = parsed(tampered)  # still valid base64url
    assert out.signing_input == jwt.signing_input
    assert out.signature != jwt.signature
    assert len(out.signature) == len(jwt.signature)
    assert jose_verifies(token, b"secret")
    assert not jose_verifies(tampered, b"secret")
    unsigned = parsed(strip_signature(jwt))
    assert parsed(tamper_signature(unsigned)).signature


# ---------------------------------------------------------------- HMAC


@pytest.mark.parametrize("alg", ["HS256", "HS384", "HS512"])
def test_sign_hs_verifies_with_joserfc(alg: str) -> None:
    token = sign_hs(CLAIMS, b"k" * 64, alg)
    assert jose_verifies(token, b"k" * 64, alg)
    assert not jose_verifies(token, b"j" * 64, alg)
    assert parsed(token).header == {"alg": alg, "typ": "JWT"}
    assert parsed(token).claims == CLAIMS


def test_sign_hs_keeps_a_given_header_but_sets_alg() -> None:
    token = sign_hs(CLAIMS, b"secret", "HS384", {"alg": "RS256", "kid": "abc", "typ": "at+jwt"})
    assert parsed(token).header == {"alg": "HS384", "kid": "abc", "typ": "at+jwt"}
    assert hmac_ok(token, b"secret", hashlib.sha384)


@pytest.mark.parametrize("alg", ["RS256", "none", "hs256", ""])
def test_sign_hs_refuses_other_algorithms(alg: str) -> None:
    with pytest.raises(ValueError, match="HMAC"):
        sign_hs(CLAIMS, b"secret", alg)


def test_crack_hs_finds_secret() -> None:
    assert crack_hs(parsed(hs_token(b"secret"))) == b"secret"


def test_crack_hs_finds_a_word_from_the_middle_of_the_list() -> None:
    words = weak_secrets()
    middle = words[len(words) // 2]
    for alg in ("HS256", "HS384", "HS512"):
        assert crack_hs(parsed(hs_token(middle, alg=alg))) == middle


def test_crack_hs_finds_the_empty_secret() -> None:
    assert crack_hs(parsed(sign_hs(CLAIMS, b""))) == b""


def test_crack_hs_gives_up_on_a_strong_key() -> None:
    assert crack_hs(parsed(hs_token(secrets.token_bytes(32)))) is None


def test_crack_hs_with_own_candidates_and_limit() -> None:
    jwt = parsed(hs_token(b"zebra-42"))
    assert crack_hs(jwt, [b"a", b"b", b"zebra-42"]) == b"zebra-42"
    assert crack_hs(jwt, iter([b"a", b"zebra-42"])) == b"zebra-42"
    assert crack_hs(jwt, [b"a", b"b", b"zebra-42"], limit=2) is None
    assert crack_hs(jwt, []) is None


def test_crack_hs_only_tries_hmac_tokens(rs_token: str) -> None:
    assert crack_hs(parsed(rs_token), [b"secret"]) is None
    unsigned = parsed(forge_none(parsed(hs_token(b"secret"))))
    assert crack_hs(unsigned, [b"", b"secret"]) is None
    stripped = parsed(strip_signature(parsed(hs_token(b"secret"))))
    assert crack_hs(stripped, [b"", b"secret"]) is None


def test_weak_secrets_is_the_bundled_list() -> None:
    words = weak_secrets()
    assert 300 <= len(words) <= 10_000
    assert words[0] == b"secret"
    for expected in (b"password", b"changeme", b"your-256-bit-secret", b"jwt_secret", b"shhhhh"):
        assert expected in words
    assert len(set(words)) == len(words)
    assert all(w and not w.startswith(b"#") and b"\n" not in w for w in words)
    words.clear()  # a fresh list each time: callers cannot spoil the cache
    assert weak_secrets()[0] == b"secret"


def test_wordlist_file_is_small_and_attributed() -> None:
    text = resources.files("apiward.scan.data").joinpath("jwt-secrets.txt").read_bytes()
    assert len(text) < 1024 * 1024
    assert text.startswith(b"#")
    text.decode("utf-8")


# ---------------------------------------------------------------- algorithm confusion


def test_key_confusion_signs_hs256_with_the_pem(rsa_key: RSAKey, rs_token: str) -> None:
    pem = rsa_key.as_pem(private=False)
    original = parsed(rs_token)
    forged = key_confusion(original, pem, {"role": "admin"})
    out = parsed(forged)
    assert out.header == {**original.header, "alg": "HS256"}
    assert out.header["kid"] == "k1"  # kept so the server picks the same public key
    assert out.claims == {**CLAIMS, "role": "admin"}
    assert hmac_ok(forged, pem)
    assert not hmac_ok(forged, pem.rstrip(b"\n"))  # the PEM bytes exactly as given
    assert crack_hs(out, [pem]) == pem
    # a correct library still refuses it as RS256
    with pytest.raises(JoseError):
        jose_jwt.decode(forged, rsa_key, algorithms=["RS256"])


# ---------------------------------------------------------------- claims


def test_with_claims_copies() -> None:
    jwt = parsed(sign_hs({**CLAIMS, "nested": {"a": [1]}}, b"secret"))
    changed = with_claims(jwt, role="admin", sub="bob")
    assert changed == {**CLAIMS, "nested": {"a": [1]}, "role": "admin", "sub": "bob"}
    changed["nested"]["a"].append(2)
    assert jwt.claims["nested"] == {"a": [1]}
    assert with_claims(jwt) == jwt.claims


def test_expired_claims() -> None:
    original = {"sub": "alice", "exp": 2_000_000_000, "nbf": 1_000}
    out = expired_claims(original, now=1_800_000_000)
    assert out["exp"] == 1_800_000_000 - 3600
    assert out["iat"] < out["exp"]
    assert out["nbf"] <= out["iat"]
    assert out["sub"] == "alice"
    assert original == {"sub": "alice", "exp": 2_000_000_000, "nbf": 1_000}
    assert "nbf" not in expired_claims({"sub": "a"}, now=10_000)
    assert expired_claims({})["exp"] < time.time()


def test_escalate_claims_flat() -> None:
    claims = {
        "sub": "alice",
        "username": "alice",
        "role": "user",
        "roles": ["user"],
        "groups": ["staff"],
        "scope": "read write",
        "scp": ["read"],
        "is_admin": False,
        "admin": 0,
        "isSuperuser": "false",
        "typ": "access",
        "type": "access",
    }
    out = escalate_claims(claims)
    assert out == {
        "sub": "alice",
        "username": "alice",
        "role": "admin",
        "roles": ["user", "admin"],
        "groups": ["staff", "admin"],
        "scope": "read write admin",
        "scp": ["read", "admin"],
        "is_admin": True,
        "admin": 1,
        "isSuperuser": "true",
        "typ": "access",
        "type": "access",
    }
    assert claims["roles"] == ["user"] and claims["role"] == "user"  # not mutated


def test_escalate_claims_nested_namespaced_and_spring() -> None:
    claims = {
        "sub": "u1",
        "realm_access": {"roles": ["offline_access"]},
        "resource_access": {"app": {"roles": ["viewer"]}},
        "https://example.com/roles": ["reader"],
        "cognito:groups": ["users"],
        "authorities": ["ROLE_USER"],
        "user_role": "ROLE_USER",
    }
    out = escalate_claims(claims)
    assert out["realm_access"]["roles"] == ["offline_access", "admin"]
    assert out["resource_access"]["app"]["roles"] == ["viewer", "admin"]
    assert out["https://example.com/roles"] == ["reader", "admin"]
    assert out["cognito:groups"] == ["users", "admin"]
    assert out["authorities"] == ["ROLE_USER", "ROLE_ADMIN"]
    assert out["user_role"] == "ROLE_ADMIN"
    assert out["sub"] == "u1"
    assert claims["realm_access"] == {"roles": ["offline_access"]}
    assert "role" not in out


def test_escalate_claims_guesses_a_role_when_there_is_none() -> None:
    assert escalate_claims({"sub": "alice", "exp": 1}) == {
        "sub": "alice",
        "exp": 1,
        "role": "admin",
    }
    assert escalate_claims({"scope": "admin"}) == {"scope": "admin"}


# ---------------------------------------------------------------- against the demo bank


def test_the_toolkit_breaks_the_vulnerable_demo_and_not_the_secure_one() -> None:
    store = Store()
    alice = store.user_by_name("alice")
    assert alice is not None
    weak = Tokens(b"secret", secure=False, ttl=600)
    token = weak.issue(alice)
    jwt = parsed(token)

    secret = crack_hs(jwt)
    assert secret == b"secret"
    admin = sign_hs(escalate_claims(jwt.claims), secret)
    principal = weak.verify(admin, store)
    assert principal is not None and principal.is_admin
    for variant in none_variants(jwt, escalate_claims(jwt.claims)):
        principal = weak.verify(variant, store)
        assert principal is not None and principal.is_admin
    expired = sign_hs(expired_claims(jwt.claims), secret)
    assert weak.verify(expired, store) is not None  # the demo never looks at exp

    strong_key = secrets.token_bytes(32)
    strong = Tokens(strong_key, secure=True, ttl=600)
    good = parsed(strong.issue(alice))
    assert strong.verify(good.raw, store) is not None
    assert crack_hs(good) is None
    assert strong.verify(strip_signature(good), store) is None
    assert strong.verify(tamper_signature(good), store) is None
    assert strong.verify(sign_hs(expired_claims(good.claims), strong_key), store) is None
    for variant in none_variants(good, escalate_claims(good.claims)):
        assert strong.verify(variant, store) is None
