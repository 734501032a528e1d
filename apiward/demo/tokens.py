"""JWTs for the demo bank (HS256, joserfc): issued at login, checked on every call.

The vulnerable checker is the classic hand-rolled one: it honours ``alg: none``,
uses a wordlist secret, never looks at ``exp`` and trusts the ``role`` claim.
The secure one allow-lists HS256, requires ``exp`` and ``iss``, and takes the role
from the user record.
"""

from __future__ import annotations

import base64
import binascii
import json
import time
from dataclasses import dataclass
from typing import Any

from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import OctKey
from joserfc.jwt import JWTClaimsRegistry

from apiward.demo.store import Store, User

ISSUER = "apiward-demo"


@dataclass(frozen=True, slots=True)
class Principal:
    """Who is calling, and with which role the server believes they have."""

    user: User
    role: str

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"


class Tokens:
    """Issues and verifies access tokens in one mode."""

    def __init__(self, key: bytes, *, secure: bool, ttl: int) -> None:
        # built directly: import_key warns on short keys, and the weak key is the point
        self._key = OctKey(key, key)
        self._secure = secure
        self._ttl = ttl
        self._claims = JWTClaimsRegistry(
            exp={"essential": True}, iss={"essential": True, "value": ISSUER}
        )

    def issue(self, user: User) -> str:
        now = int(time.time())
        claims = {
            "sub": user.username,
            "uid": user.id,
            "role": user.role,
            "iss": ISSUER,
            "iat": now,
            "exp": now + self._ttl,
        }
        return jwt.encode({"alg": "HS256", "typ": "JWT"}, claims, self._key, algorithms=["HS256"])

    def verify(self, token: str, store: Store) -> Principal | None:
        """The caller behind ``token``, or None when the token is not acceptable."""
        if self._secure:
            return self._verify_strictly(token, store)
        return self._verify_naively(token, store)

    def _verify_strictly(self, token: str, store: Store) -> Principal | None:
        try:
            claims = jwt.decode(token, self._key, algorithms=["HS256"]).claims
            self._claims.validate(claims)
        except (JoseError, ValueError):
            return None
        user = store.user_by_name(str(claims.get("sub", "")))
        return None if user is None else Principal(user, user.role)

    def _verify_naively(self, token: str, store: Store) -> Principal | None:
        parts = token.split(".")
        if len(parts) != 3:
            return None
        header = _segment(parts[0])
        if header is None:
            return None
        claims: dict[str, Any] | None
        if str(header.get("alg", "")).lower() == "none":
            claims = _segment(parts[1])  # "unsigned tokens come from our own services"
        else:
            try:
                claims = jwt.decode(token, self._key, algorithms=["HS256"]).claims
            except (JoseError, ValueError):
                return None
        if claims is None:
            return None
        user = store.user_by_name(str(claims.get("sub", "")))
        if user is None:
            return None
        return Principal(user, str(claims.get("role", user.role)))


def _segment(text: str) -> dict[str, Any] | None:
    try:
        data = json.loads(base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)))
    except (binascii.Error, ValueError):
        return None
    return data if isinstance(data, dict) else None
