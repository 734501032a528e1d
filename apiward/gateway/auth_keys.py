"""API keys, stored only as keyed hashes, with per-key scopes, roles, expiry and revocation.

The gateway loads an :class:`ApiKeyStore` from the key file (``load_key_file``) with the
server's pepper, wraps it in one :class:`ApiKeyAuth` per ``apiKey`` security scheme (the
scheme says header, query or cookie and the name) and hands those to
``evaluate_requirements``. The admin API calls ``generate_key`` / ``revoke`` and
``save_key_file``. Per request: one HMAC-SHA256 (about 1 µs) and a dict lookup.

Why HMAC-SHA256 with a pepper and not scrypt/argon2: generated keys carry 256 random bits,
so there is no dictionary to slow down; a slow hash would only cost every request
milliseconds. The pepper (kept in the gateway's secret config, not in the key file) means
a leaked key file does not even let anyone test guesses offline. Lookup is a dict hit on
the digest, so no comparison runs on the key itself: its timing depends on an HMAC the
caller cannot steer toward a stored digest without the pepper.

Plaintext keys exist once, in ``generate_key``'s return value; records, reprs, errors and
files hold the ``key_id`` (safe to log) and the digest only.
"""

from __future__ import annotations

import hmac
import json
import os
import secrets
import tempfile
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime
from pathlib import Path
from types import MappingProxyType
from typing import Any, Literal

import yaml

from apiward.errors import ConfigError
from apiward.gateway.auth_common import AuthRequest, InvalidCredentials, Principal

__all__ = ["ApiKeyAuth", "ApiKeyRecord", "ApiKeyStore", "load_key_file", "save_key_file"]

KEY_PREFIX = "awk"  # recognisable by secret scanners, like GitHub's ghp_
MIN_PEPPER_BYTES = 32
_FIELDS = {"id", "hash", "name", "owner", "scopes", "roles", "enabled", "expires", "revoked"}


@dataclass(frozen=True, slots=True)
class ApiKeyRecord:
    """One key's metadata and digest. ``expires_at``/``revoked_at`` are epoch seconds."""

    key_id: str
    digest: str = field(repr=False)
    name: str = ""
    owner: str = ""
    scopes: frozenset[str] = frozenset()
    roles: frozenset[str] = frozenset()
    enabled: bool = True
    expires_at: float | None = None
    revoked_at: float | None = None

    def to_dict(self) -> dict[str, Any]:
        """The key file's form of the record (the digest, never a key)."""
        out: dict[str, Any] = {"id": self.key_id, "hash": self.digest, "name": self.name}
        out |= {"owner": self.owner, "scopes": sorted(self.scopes), "roles": sorted(self.roles)}
        out |= {"enabled": self.enabled, "expires": self.expires_at, "revoked": self.revoked_at}
        return out

    @classmethod
    def from_dict(cls, data: Any, *, where: str = "") -> ApiKeyRecord:
        """Parse one entry of a key file; ``ConfigError`` names the entry and the field."""
        if not isinstance(data, dict):
            raise ConfigError("a key entry must be a mapping", key=where)
        unknown = set(data) - _FIELDS
        if unknown:
            raise ConfigError(f"unknown fields {sorted(unknown)}", key=where)
        key_id, digest = data.get("id"), data.get("hash")
        if not isinstance(key_id, str) or not key_id:
            raise ConfigError("'id' must be a non-empty string", key=where)
        if not isinstance(digest, str) or len(digest) != 64 or not _is_hex(digest):
            raise ConfigError("'hash' must be 64 hex digits (HMAC-SHA256)", key=where)
        return cls(
            key_id=key_id,
            digest=digest.lower(),
            name=_text(data, "name", where),
            owner=_text(data, "owner", where),
            scopes=_names(data, "scopes", where),
            roles=_names(data, "roles", where),
            enabled=_flag(data, "enabled", where),
            expires_at=_when(data.get("expires"), f"{where}.expires"),
            revoked_at=_when(data.get("revoked"), f"{where}.revoked"),
        )


class ApiKeyStore:
    """Keys by digest. ``pepper``: at least 32 bytes of server secret, the same for the file."""

    def __init__(
        self,
        pepper: bytes | str,
        records: Iterable[ApiKeyRecord] = (),
        *,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._pepper = pepper.encode() if isinstance(pepper, str) else bytes(pepper)
        if len(self._pepper) < MIN_PEPPER_BYTES:
            raise ConfigError(f"the API key pepper must be at least {MIN_PEPPER_BYTES} bytes")
        self._clock = clock
        self._by_digest: dict[bytes, ApiKeyRecord] = {}
        self._by_id: dict[str, ApiKeyRecord] = {}
        for record in records:
            self.add(record)

    def __repr__(self) -> str:
        return f"ApiKeyStore({len(self._by_id)} keys)"

    def hash_key(self, plaintext: str) -> str:
        """The stored form of a key: hex HMAC-SHA256 under the pepper."""
        return self._digest(plaintext).hex()

    def _digest(self, plaintext: str) -> bytes:
        return hmac.digest(self._pepper, plaintext.encode("utf-8", "surrogatepass"), "sha256")

    def generate_key(
        self,
        name: str,
        *,
        owner: str = "",
        scopes: Iterable[str] = (),
        roles: Iterable[str] = (),
        expires_at: float | None = None,
    ) -> tuple[str, ApiKeyRecord]:
        """Create and add a key; the plaintext is returned this once and stored nowhere."""
        key_id = secrets.token_hex(4)
        while key_id in self._by_id:
            key_id = secrets.token_hex(4)
        plaintext = f"{KEY_PREFIX}_{key_id}_{secrets.token_urlsafe(32)}"
        record = ApiKeyRecord(
            key_id=key_id,
            digest=self.hash_key(plaintext),
            name=name,
            owner=owner,
            scopes=frozenset(scopes),
            roles=frozenset(roles),
            expires_at=expires_at,
        )
        self.add(record)
        return plaintext, record

    def add(self, record: ApiKeyRecord) -> None:
        """Add or replace (same ``key_id``) a record."""
        digest = bytes.fromhex(record.digest)
        other = self._by_digest.get(digest)
        if other is not None and other.key_id != record.key_id:
            raise ConfigError(f"API keys {other.key_id!r} and {record.key_id!r} share a hash")
        previous = self._by_id.get(record.key_id)
        if previous is not None:
            self._by_digest.pop(bytes.fromhex(previous.digest), None)
        self._by_id[record.key_id] = record
        self._by_digest[digest] = record

    def revoke(self, key_id: str) -> ApiKeyRecord:
        """Revoke a key now; it stays listed (and refused) so the revocation is on record."""
        record = self._by_id.get(key_id)
        if record is None:
            raise KeyError(key_id)
        revoked = replace(record, revoked_at=record.revoked_at or self._clock())
        self.add(revoked)
        return revoked

    def get(self, key_id: str) -> ApiKeyRecord | None:
        return self._by_id.get(key_id)

    def records(self) -> list[ApiKeyRecord]:
        return list(self._by_id.values())

    def lookup(self, plaintext: str, *, scheme: str = "apiKey") -> ApiKeyRecord:
        """The record of a presented key, or ``InvalidCredentials`` saying why not."""
        digest = self._digest(plaintext)
        record = self._by_digest.get(digest)
        if record is None:
            raise InvalidCredentials("unknown_key", "unknown API key", scheme=scheme)
        label = f"API key {record.key_id!r}"
        if record.revoked_at is not None:
            raise InvalidCredentials("key_revoked", f"{label} is revoked", scheme=scheme)
        if not record.enabled:
            raise InvalidCredentials("key_disabled", f"{label} is disabled", scheme=scheme)
        if record.expires_at is not None and self._clock() >= record.expires_at:
            raise InvalidCredentials("key_expired", f"{label} has expired", scheme=scheme)
        return record


class ApiKeyAuth:
    """The ``Authenticator`` for one ``apiKey`` scheme: where the key travels and its name.

    Keys in the query string end up in access logs, browser history and Referer headers,
    so ``location="query"`` needs ``allow_query=True`` from the operator.
    """

    def __init__(
        self,
        store: ApiKeyStore,
        *,
        name: str = "X-API-Key",
        location: Literal["header", "query", "cookie"] = "header",
        allow_query: bool = False,
        scheme: str = "apiKey",
    ) -> None:
        if location == "query" and not allow_query:
            raise ConfigError("API keys in the query string leak into logs; set allow_query")
        if location not in ("header", "query", "cookie"):
            raise ConfigError(f"API key location must be header, query or cookie: {location!r}")
        self._store, self._name, self._location, self._scheme = store, name, location, scheme

    async def authenticate(self, request: AuthRequest) -> Principal | None:
        if self._location == "header":
            value = request.header(self._name)
        elif self._location == "query":
            value = request.query(self._name)
        else:
            value = request.cookie(self._name)
        if value is None:
            return None
        record = self._store.lookup(value.strip(), scheme=self._scheme)
        claims = MappingProxyType(
            {"key_id": record.key_id, "name": record.name, "owner": record.owner}
        )
        subject = record.owner or f"apikey:{record.key_id}"
        return Principal(subject, record.scopes, record.roles, claims, self._scheme)


def load_key_file(path: str | Path) -> list[ApiKeyRecord]:
    """Records from a YAML or JSON file ``{keys: [{id, hash, name, owner, scopes, ...}]}``."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
        data = json.loads(text) if path.suffix == ".json" else yaml.safe_load(text)
    except (OSError, ValueError, yaml.YAMLError) as err:
        raise ConfigError(f"cannot read the key file: {err}", path=str(path)) from None
    entries = data.get("keys") if isinstance(data, dict) else None
    if not isinstance(entries, list):
        raise ConfigError("expected a mapping with a 'keys' list", path=str(path))
    records, seen = [], set()
    for i, entry in enumerate(entries):
        try:
            record = ApiKeyRecord.from_dict(entry, where=f"keys[{i}]")
        except ConfigError as err:
            raise ConfigError(err.message, path=str(path)) from None
        if record.key_id in seen:
            raise ConfigError(f"duplicate id {record.key_id!r}", path=str(path), key=f"keys[{i}]")
        seen.add(record.key_id)
        records.append(record)
    return records


def save_key_file(path: str | Path, records: Iterable[ApiKeyRecord]) -> None:
    """Write records atomically (readers never see half a file), readable by the owner only."""
    path = Path(path)
    data = {"keys": [r.to_dict() for r in records]}
    text = json.dumps(data, indent=2) if path.suffix == ".json" else yaml.safe_dump(data)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        os.chmod(tmp, 0o600)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _is_hex(text: str) -> bool:
    return all(c in "0123456789abcdefABCDEF" for c in text)


def _text(data: Mapping[str, Any], name: str, where: str) -> str:
    value = data.get(name, "")
    if not isinstance(value, str):
        raise ConfigError(f"{name!r} must be a string", key=where)
    return value


def _names(data: Mapping[str, Any], name: str, where: str) -> frozenset[str]:
    value = data.get(name) or []
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ConfigError(f"{name!r} must be a list of strings", key=where)
    return frozenset(value)


def _flag(data: Mapping[str, Any], name: str, where: str) -> bool:
    value = data.get(name, True)
    if not isinstance(value, bool):
        raise ConfigError(f"{name!r} must be true or false", key=where)
    return value


def _when(value: Any, where: str) -> float | None:
    """Epoch seconds from a number, an ISO 8601 string or a YAML timestamp (UTC if naive)."""
    if value is None:
        return None
    if isinstance(value, bool):
        raise ConfigError("expected a time", key=where)
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value)
        except ValueError:
            raise ConfigError(f"not an ISO 8601 time: {value!r}", key=where) from None
    if isinstance(value, date) and not isinstance(value, datetime):
        value = datetime(value.year, value.month, value.day)
    if isinstance(value, datetime):
        return (value if value.tzinfo else value.replace(tzinfo=UTC)).timestamp()
    raise ConfigError("expected a time", key=where)
