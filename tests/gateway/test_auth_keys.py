"""ApiKeyStore / ApiKeyAuth: hashed storage, lookup, revocation, expiry, key files, locations."""

from __future__ import annotations

import asyncio
import json
import stat
from dataclasses import replace
from pathlib import Path

import pytest

from apiward.errors import ConfigError
from apiward.gateway.auth_common import AuthRequest, InvalidCredentials, Principal
from apiward.gateway.auth_keys import (
    ApiKeyAuth,
    ApiKeyRecord,
    ApiKeyStore,
    load_key_file,
    save_key_file,
)
from tests.gateway.test_auth_jwt import NOW, Clock

PEPPER = b"p" * 32


def store(clock: Clock | None = None) -> ApiKeyStore:
    return ApiKeyStore(PEPPER, clock=clock or Clock())


def refused(s: ApiKeyStore, key: str) -> str:
    with pytest.raises(InvalidCredentials) as info:
        s.lookup(key)
    assert not key or key not in str(info.value)
    return info.value.reason


def test_generated_keys_are_stored_hashed_and_found() -> None:
    s = store()
    key, record = s.generate_key("ci", owner="team-a", scopes=["read"], roles=["bot"])
    assert key.startswith(f"awk_{record.key_id}_") and len(key) > 40
    assert record.digest == s.hash_key(key) and key not in record.digest
    assert s.lookup(key) is record
    assert key not in repr(record) and record.digest not in repr(record)
    assert key not in repr(s)
    other, _ = s.generate_key("other")
    assert other != key and s.lookup(other).name == "other"


def test_unknown_revoked_disabled_and_expired_keys_are_refused() -> None:
    clock = Clock()
    s = store(clock)
    key, _ = s.generate_key("k", expires_at=NOW + 10)
    assert refused(s, key + "x") == "unknown_key"
    assert refused(s, "") == "unknown_key"
    clock.now = NOW + 10
    assert refused(s, key) == "key_expired"
    key2, rec2 = s.generate_key("k2")
    revoked = s.revoke(rec2.key_id)
    assert revoked.revoked_at == NOW + 10
    assert refused(s, key2) == "key_revoked"
    assert s.get(rec2.key_id) == revoked  # still listed, on record
    key3, rec3 = s.generate_key("k3")
    s.add(replace(rec3, enabled=False))
    assert refused(s, key3) == "key_disabled"
    with pytest.raises(KeyError):
        s.revoke("nope")


def test_another_pepper_matches_nothing() -> None:
    s = store()
    key, _ = s.generate_key("k")
    other = ApiKeyStore(b"q" * 32, s.records())
    assert refused(other, key) == "unknown_key"
    with pytest.raises(ConfigError, match="32 bytes"):
        ApiKeyStore(b"short")


@pytest.mark.parametrize("suffix", [".json", ".yaml"])
def test_key_files_round_trip_without_plaintext(tmp_path: Path, suffix: str) -> None:
    s = store()
    key, _ = s.generate_key("ci", owner="o", scopes=["a", "b"], expires_at=NOW + 99)
    _, rec2 = s.generate_key("old")
    s.revoke(rec2.key_id)
    path = tmp_path / f"keys{suffix}"
    save_key_file(path, s.records())
    assert key not in path.read_text()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    loaded = ApiKeyStore(PEPPER, load_key_file(path), clock=Clock())
    assert loaded.lookup(key).scopes == {"a", "b"}
    assert loaded.get(rec2.key_id) == s.get(rec2.key_id)


def test_key_file_accepts_iso_times_and_names_bad_entries(tmp_path: Path) -> None:
    path = tmp_path / "keys.yaml"
    digest = "ab" * 32
    path.write_text(
        f"keys:\n- id: a\n  hash: {digest}\n  expires: 2030-01-01\n"
        f"- id: b\n  hash: {'cd' * 32}\n  expires: '2030-01-01T00:00:00+00:00'\n"
    )
    a, b = load_key_file(path)
    assert a.expires_at == b.expires_at == 1893456000.0
    bad = {
        "keys: [{id: a, hash: xyz}]": "64 hex",
        "keys: [{id: a, hash: " + digest + ", key: secret}]": "unknown fields",
        "keys: [{id: a, hash: " + digest + "}, {id: a, hash: " + "cd" * 32 + "}]": "duplicate",
        "keys: [{id: a, hash: " + digest + ", scopes: read}]": "list of strings",
        "keys: [{id: a, hash: " + digest + ", enabled: 'no'}]": "true or false",
        "keys: [{id: a, hash: " + digest + ", expires: soon}]": "ISO 8601",
        "keys: {}": "'keys' list",
        "keys: [": "cannot read",
    }
    for text, message in bad.items():
        path.write_text(text)
        with pytest.raises(ConfigError, match=message) as info:
            load_key_file(path)
        assert str(path) in str(info.value)
    path.write_text(
        json.dumps({"keys": [{"id": "a", "hash": digest}, {"id": "b", "hash": digest}]})
    )
    with pytest.raises(ConfigError, match="share a hash"):
        ApiKeyStore(PEPPER, load_key_file(path))


def auth(a: ApiKeyAuth, headers: list[tuple[str, str]], query: str = "") -> Principal | None:
    return asyncio.run(a.authenticate(AuthRequest(headers, query)))


def test_api_key_auth_reads_header_query_and_cookie() -> None:
    s = store()
    key, record = s.generate_key("k", owner="bob", scopes=["read"])
    header = ApiKeyAuth(s, name="X-API-Key")
    principal = auth(header, [("x-api-key", key)])
    assert principal is not None and principal.subject == "bob"
    assert principal.scopes == {"read"} and principal.claims["key_id"] == record.key_id
    assert auth(header, []) is None
    assert auth(header, [], f"X-API-Key={key}") is None  # header scheme ignores the query
    with pytest.raises(InvalidCredentials, match="more than once"):
        auth(header, [("X-API-Key", key), ("X-Api-Key", "other")])
    with pytest.raises(ConfigError, match="allow_query"):
        ApiKeyAuth(s, name="api_key", location="query")
    query = ApiKeyAuth(s, name="api_key", location="query", allow_query=True)
    assert auth(query, [], f"api_key={key}") is not None
    with pytest.raises(InvalidCredentials, match="more than once"):
        auth(query, [], f"api_key={key}&api_key=x")
    cookie = ApiKeyAuth(s, name="k", location="cookie")
    assert auth(cookie, [("cookie", f"a=1; k={key}")]) is not None
    _, anonymous_owner = s.generate_key("no-owner")
    assert anonymous_owner.owner == ""


def test_record_from_dict_rejects_non_mappings() -> None:
    with pytest.raises(ConfigError, match="mapping"):
        ApiKeyRecord.from_dict(["x"])
