"""Opaque bearer tokens checked with OAuth 2.0 Token Introspection (RFC 7662), cached.

The gateway builds one :class:`Introspector` per ``oauth2`` scheme whose tokens are opaque
and passes it to ``evaluate_requirements`` (it is an ``Authenticator``). A token seen
before is answered from memory: active ones until ``min(exp, now + cache_ttl)``, inactive
ones for ``inactive_ttl`` (so a flood of bad tokens does not become a flood of POSTs).
Concurrent requests with the same new token share one POST.

Fails closed: a timeout, a connection error, a non-200 answer or a malformed body raises
``AuthUnavailable`` (the request is denied with 503) and is not cached.
"""

from __future__ import annotations

import asyncio
import base64
import json
import math
import time
from collections import OrderedDict
from collections.abc import Callable, Sequence
from types import MappingProxyType
from typing import Any, Literal
from urllib.parse import quote

import httpx

from apiward.errors import ConfigError
from apiward.gateway.auth_common import (
    AuthRequest,
    AuthUnavailable,
    InvalidCredentials,
    Principal,
    bearer_token,
    check_fetch_url,
    split_scopes,
    token_digest,
)

__all__ = ["Introspector"]

MAX_RESPONSE_BYTES = 64 * 1024
_Entry = tuple[Principal | None, float]  # None: the server said inactive


class Introspector:
    """Ask the authorization server whether a token is active, as this gateway's client.

    ``auth_method`` is ``client_secret_basic`` (RFC 6749 2.3.1, the default) or
    ``client_secret_post``. ``audience``/``issuer``, when set, must match the answer's
    ``aud``/``iss``. ``clock`` (wall time, seconds) drives ``exp``/``nbf`` and the caches.
    """

    def __init__(
        self,
        endpoint: str,
        client_id: str,
        client_secret: str,
        *,
        auth_method: Literal["client_secret_basic", "client_secret_post"] = "client_secret_basic",
        timeout: float = 2.0,
        cache_ttl: float = 60.0,
        inactive_ttl: float = 5.0,
        cache_size: int = 10_000,
        audience: str | Sequence[str] | None = None,
        issuer: str | None = None,
        leeway: float = 30.0,
        roles_claim: str = "roles",
        scheme: str = "oauth2",
        clock: Callable[[], float] = time.time,
        client: httpx.AsyncClient | None = None,
    ) -> None:
        self._endpoint = check_fetch_url(endpoint, "introspection endpoint")
        if auth_method not in ("client_secret_basic", "client_secret_post"):
            raise ConfigError(f"unsupported introspection client auth {auth_method!r}")
        self._auth_method = auth_method
        self._client_id, self._client_secret = client_id, client_secret
        self._timeout = timeout
        self._cache_ttl, self._inactive_ttl, self._cache_size = cache_ttl, inactive_ttl, cache_size
        self._audience = frozenset([audience] if isinstance(audience, str) else audience or ())
        self._issuer, self._leeway = issuer, leeway
        self._roles_claim, self._scheme, self._clock = roles_claim, scheme, clock
        self._client, self._owns_client = client, client is None
        self._cache: OrderedDict[bytes, _Entry] = OrderedDict()
        self._inflight: dict[bytes, asyncio.Task[_Entry]] = {}

    def __repr__(self) -> str:  # no secret in logs
        return f"Introspector({self._endpoint!r}, client_id={self._client_id!r})"

    async def authenticate(self, request: AuthRequest) -> Principal | None:
        """The ``Authenticator`` entry point: ``None`` when no bearer token was sent."""
        token = bearer_token(request, scheme=self._scheme)
        return None if token is None else await self.introspect(token)

    async def introspect(self, token: str) -> Principal:
        """The principal of an active token; ``InvalidCredentials`` / ``AuthUnavailable``."""
        digest = token_digest(token)
        now = self._clock()
        entry = self._cache.get(digest)
        if entry is not None and now >= entry[1]:
            del self._cache[digest]
            entry = None
        if entry is None:
            task = self._inflight.get(digest)
            if task is None:
                task = asyncio.get_running_loop().create_task(self._ask(token, now))
                self._inflight[digest] = task
                task.add_done_callback(lambda t: self._settled(digest, t))
            entry = await asyncio.shield(task)
            self._store(digest, entry, now)
        else:
            self._cache.move_to_end(digest)
        if entry[0] is None:
            raise InvalidCredentials("inactive", "the token is not active", scheme=self._scheme)
        return entry[0]

    async def aclose(self) -> None:
        if self._client is not None and self._owns_client:
            await self._client.aclose()
            self._client = None

    def _settled(self, digest: bytes, task: asyncio.Task[_Entry]) -> None:
        self._inflight.pop(digest, None)
        if not task.cancelled():
            task.exception()  # retrieved here: its awaiters may all have been cancelled

    def _store(self, digest: bytes, entry: _Entry, now: float) -> None:
        if entry[1] > now and self._cache_size > 0:
            self._cache[digest] = entry
            if len(self._cache) > self._cache_size:
                self._cache.popitem(last=False)

    async def _ask(self, token: str, now: float) -> _Entry:
        answer = await self._post(token)
        active = answer.get("active")
        if not isinstance(active, bool):
            raise self._down("the introspection answer has no boolean 'active'")
        principal = self._principal(answer, now) if active else None
        if principal is None:
            return None, now + self._inactive_ttl
        exp = _number(answer.get("exp"))
        return principal, min(math.inf if exp is None else exp, now + self._cache_ttl)

    def _principal(self, answer: dict[str, Any], now: float) -> Principal | None:
        """The principal, or ``None`` if the answer is active but not acceptable here."""
        exp, nbf = _number(answer.get("exp")), _number(answer.get("nbf"))
        if exp is not None and now >= exp:
            return None
        if nbf is not None and now + self._leeway < nbf:
            return None
        if self._issuer is not None and answer.get("iss") != self._issuer:
            return None
        if self._audience:
            aud = answer.get("aud")
            auds = [aud] if isinstance(aud, str) else aud if isinstance(aud, list) else []
            if not any(isinstance(a, str) and a in self._audience for a in auds):
                return None
        subject = answer.get("sub") or answer.get("username") or ""
        if not isinstance(subject, str):
            return None
        return Principal(
            subject,
            split_scopes(answer.get("scope")),
            split_scopes(answer.get(self._roles_claim)),
            MappingProxyType(answer),
            self._scheme,
        )

    def _down(self, message: str) -> AuthUnavailable:
        return AuthUnavailable("introspection_unavailable", message, scheme=self._scheme)

    async def _post(self, token: str) -> dict[str, Any]:
        if self._client is None:
            self._client = httpx.AsyncClient(
                timeout=self._timeout, follow_redirects=False, trust_env=False
            )
        form = {"token": token, "token_type_hint": "access_token"}
        headers = {"accept": "application/json"}
        if self._auth_method == "client_secret_basic":
            # RFC 6749 2.3.1: form-encode both parts before Basic-encoding them
            pair = f"{quote(self._client_id, safe='')}:{quote(self._client_secret, safe='')}"
            headers["authorization"] = "Basic " + base64.b64encode(pair.encode()).decode()
        else:
            form |= {"client_id": self._client_id, "client_secret": self._client_secret}
        body = bytearray()
        try:
            async with self._client.stream(
                "POST", self._endpoint, data=form, headers=headers, timeout=self._timeout
            ) as response:
                if response.status_code != 200:
                    raise self._down(f"the introspection endpoint answered {response.status_code}")
                async for chunk in response.aiter_bytes():
                    body += chunk
                    if len(body) > MAX_RESPONSE_BYTES:
                        raise self._down("the introspection answer is too large")
        except httpx.HTTPError as err:
            raise self._down(f"introspection failed: {type(err).__name__}") from None
        try:
            answer = json.loads(body)
        except ValueError:
            raise self._down("the introspection answer is not JSON") from None
        if not isinstance(answer, dict):
            raise self._down("the introspection answer is not a JSON object")
        return answer


def _number(value: Any) -> float | None:
    if not isinstance(value, int | float) or isinstance(value, bool):
        return None
    try:
        number = float(value)
    except OverflowError:
        return None
    return number if math.isfinite(number) else None
