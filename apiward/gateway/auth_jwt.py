"""JWT bearer authentication: static keys, JWKS URLs, OIDC discovery, a verified-token cache.

The gateway builds one :class:`JwtVerifier` per ``http: bearer`` / ``openIdConnect`` scheme at
load, awaits :meth:`JwtVerifier.prefetch` once, and passes it to ``evaluate_requirements``
(it is an ``Authenticator``). Per request, a token already verified costs one sha256 and a
dict lookup; a new one costs a signature check (tens of µs, ``../shared/PERF.md``).

What a token may and may not decide:

- its ``alg`` must be in the allow-list of the key that verifies it; ``none`` never is, and a
  key only allows algorithms of its own type (no HMAC with an RSA public key);
- its ``kid`` picks among keys the operator configured or the configured JWKS served; the
  ``jku``, ``x5u``, ``jwk`` and ``x5c`` headers are ignored: keys never come from the token;
- ``exp``, ``nbf``, ``iat``, ``iss`` and ``aud`` are enforced with a small leeway.

JWKS are fetched asynchronously, refreshed in the background after ``jwks_ttl``, and on an
unknown ``kid`` at most once per ``refresh_interval`` (no thundering herd on forged kids).
"""

from __future__ import annotations

import asyncio
import base64
import json
import math
import time
from collections import OrderedDict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

import httpx
from joserfc import jwk, jws
from joserfc.errors import BadSignatureError, JoseError, UnsupportedAlgorithmError
from joserfc.jwa import JWSAlgModel
from joserfc.jws import JWSRegistry

from apiward.errors import ConfigError
from apiward.gateway.auth_common import (
    MAX_CREDENTIAL_LENGTH,
    AuthRequest,
    AuthUnavailable,
    InvalidCredentials,
    Principal,
    bearer_token,
    check_fetch_url,
    split_scopes,
    token_digest,
)

__all__ = ["JwtKey", "JwtVerifier"]

_FAMILY = {"HS": "oct", "RS": "RSA", "PS": "RSA", "ES": "EC", "Ed": "OKP"}
_HMAC_MIN = {"HS256": 32, "HS384": 48, "HS512": 64}  # RFC 7518 3.2: key >= hash size
_EC_ALG = {"P-256": "ES256", "P-384": "ES384", "P-521": "ES512", "secp256k1": "ES256K"}
_PRIVATE_MEMBERS = ("d", "p", "q", "dp", "dq", "qi", "oth", "k")
MAX_JWKS_BYTES = 1 << 20
MAX_JWKS_KEYS = 64
MAX_KIDLESS_TRIES = 8  # a token without kid is tried against at most this many keys


def _key_type(alg: str) -> str:
    if alg in ("EdDSA", "Ed25519", "Ed448"):
        return "OKP"
    kty = _FAMILY.get(alg[:2])
    if kty is None or alg == "none":
        raise ConfigError(f"unsupported JWT algorithm {alg!r}")
    return kty


def _compatible(key: jwk.Key) -> frozenset[str]:
    """The algorithms a key can verify: its own family, and for EC/OKP its own curve."""
    if isinstance(key, jwk.OctKey):
        return frozenset(_HMAC_MIN)
    if isinstance(key, jwk.RSAKey):
        return frozenset({"RS256", "RS384", "RS512", "PS256", "PS384", "PS512"})
    if isinstance(key, jwk.ECKey):
        return frozenset({_EC_ALG.get(key.curve_name, "")} - {""})
    if isinstance(key, jwk.OKPKey) and key.curve_name in ("Ed25519", "Ed448"):
        return frozenset({"EdDSA", key.curve_name})
    return frozenset()


@dataclass(frozen=True, slots=True)
class JwtKey:
    """A statically configured verification key.

    ``key`` is an HMAC secret (str or bytes), a PEM public key, or a JWK mapping;
    ``algorithms`` the algorithms it may verify, all of one family (HS*, RS*/PS*, ES*, EdDSA).
    A key without ``kid`` is tried for any token whose ``alg`` it allows.
    """

    key: str | bytes | Mapping[str, Any]
    algorithms: tuple[str, ...]
    kid: str | None = None

    def __repr__(self) -> str:  # the key may be a secret
        return f"JwtKey(kid={self.kid!r}, algorithms={self.algorithms!r})"


@dataclass(frozen=True, slots=True)
class _Key:
    kid: str | None
    key: jwk.Key
    algorithms: frozenset[str]
    thumbprint: str


def _import_static(spec: JwtKey) -> _Key:
    if not spec.algorithms:
        raise ConfigError(f"JWT key {spec.kid!r}: list the algorithms it may verify")
    families = {_key_type(a) for a in spec.algorithms}
    if len(families) != 1:
        raise ConfigError(f"JWT key {spec.kid!r}: algorithms of several types {spec.algorithms}")
    kty = families.pop()
    data = spec.key
    if kty == "oct" and not isinstance(data, Mapping):
        secret = data.encode() if isinstance(data, str) else data
        if secret.lstrip().startswith((b"-----BEGIN", b"---- BEGIN", b"ssh-")):
            raise ConfigError(f"JWT key {spec.kid!r}: an HMAC secret that is a public key")
        short = [a for a in spec.algorithms if len(secret) < _HMAC_MIN[a]]
        if short:
            raise ConfigError(f"JWT key {spec.kid!r}: secret too short for {short} (RFC 7518 3.2)")
        data = secret
    try:
        key = jwk.import_key(dict(data) if isinstance(data, Mapping) else data, kty)  # type: ignore[call-overload]
    except (JoseError, ValueError, TypeError) as err:
        raise ConfigError(f"JWT key {spec.kid!r}: not a usable {kty} key ({err})") from None
    allowed = frozenset(spec.algorithms)
    if isinstance(data, Mapping) and (
        data.get("use", "sig") != "sig" or data.get("alg", spec.algorithms[0]) not in allowed
    ):
        raise ConfigError(f"JWT key {spec.kid!r}: the JWK's use/alg contradict {spec.algorithms}")
    if key.key_type != kty or not allowed <= _compatible(key):
        raise ConfigError(
            f"JWT key {spec.kid!r}: a {key.key_type} key cannot verify {spec.algorithms}"
        )
    return _Key(spec.kid, key, allowed, key.thumbprint())


def _import_jwks(document: Any, algorithms: frozenset[str]) -> list[_Key]:
    """Usable signature keys of a JWKS; oct keys and private members are never taken from one."""
    keys = document.get("keys") if isinstance(document, dict) else None
    if not isinstance(keys, list):
        raise ValueError("no 'keys' list")
    out = []
    for raw in keys[:MAX_JWKS_KEYS]:
        if not isinstance(raw, dict) or raw.get("kty") not in ("RSA", "EC", "OKP"):
            continue
        if raw.get("use", "sig") != "sig" or not isinstance(raw.get("kid", ""), str):
            continue
        public = {k: v for k, v in raw.items() if k not in _PRIVATE_MEMBERS}
        try:
            key = jwk.import_key(public)
        except (JoseError, ValueError, TypeError):
            continue  # one malformed key does not spoil the set
        allowed = _compatible(key) & algorithms
        if "alg" in raw:
            allowed &= {raw["alg"]}
        if allowed:
            out.append(_Key(raw.get("kid"), key, allowed, key.thumbprint()))
    return out


class _Registry(JWSRegistry):
    """One algorithm, already allow-listed by us: skip joserfc's per-call deprecation warning
    (EdDSA is deprecated in favour of Ed25519 by RFC 9864, yet still what most IdPs send)."""

    def get_alg(self, name: str) -> JWSAlgModel:
        if name == "none" or not self.allowed or name not in self.allowed:
            raise UnsupportedAlgorithmError(f"algorithm {name!r} is not allowed")
        return self.algorithms[name]


_REGISTRIES: dict[str, JWSRegistry] = {}


def _registry(alg: str) -> JWSRegistry:
    reg = _REGISTRIES.get(alg)
    if reg is None:
        # lenient on unknown header names (IdPs add their own); crit is still enforced
        reg = _Registry(algorithms=[alg], strict_check_header=False)
        reg.max_header_length = 4096
        _REGISTRIES[alg] = reg
    return reg


_JSON = json.JSONDecoder()


def _b64json(segment: str) -> Any:
    raw = base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))
    return _JSON.decode(raw.decode())  # str, not bytes: json.loads sniffs bytes' encoding


def _number(claims: Mapping[str, Any], name: str) -> float | None:
    value = claims.get(name)
    if value is None:
        return None
    try:
        if isinstance(value, int | float) and not isinstance(value, bool):
            number = float(value)
            if math.isfinite(number):
                return number
    except OverflowError:
        pass
    raise InvalidCredentials("malformed", f"claim {name!r} is not a number")


class JwtVerifier:
    """Verify JWT bearer tokens into :class:`Principal`; see the module docstring for the rules.

    ``audience`` is required unless ``require_audience=False``: a token minted for another
    service must not be accepted here. ``oidc_issuer`` discovers ``jwks_uri`` from
    ``<issuer>/.well-known/openid-configuration`` and sets the expected ``iss``.
    ``clock`` (wall time, seconds) is used for claims, caches and refresh throttling.
    Use one instance within one event loop (its refresh lock and task belong to it).
    """

    def __init__(
        self,
        keys: Sequence[JwtKey] = (),
        *,
        jwks_url: str | None = None,
        oidc_issuer: str | None = None,
        jwks_algorithms: Sequence[str] = ("RS256", "PS256", "ES256", "EdDSA", "Ed25519"),
        issuer: str | None = None,
        audience: str | Sequence[str] | None = None,
        require_audience: bool = True,
        required_claims: Sequence[str] = ("exp",),
        leeway: float = 30.0,
        jwks_ttl: float = 300.0,
        refresh_interval: float = 30.0,
        max_stale: float = 3600.0,
        fetch_timeout: float = 3.0,
        cache_size: int = 10_000,
        cache_ttl: float = 300.0,
        roles_claim: str = "roles",
        scheme: str = "bearer",
        clock: Callable[[], float] = time.time,
        client: httpx.AsyncClient | None = None,
    ) -> None:
        if audience is None and require_audience:
            raise ConfigError("JWT: set the expected audience (or require_audience=False)")
        self._static = [_import_static(k) for k in keys]
        for alg in jwks_algorithms:
            _key_type(alg)
        self._jwks_algorithms = frozenset(jwks_algorithms)
        self._jwks_url = check_fetch_url(jwks_url, "jwks_url") if jwks_url else None
        self._discovery = None
        if oidc_issuer:
            base = check_fetch_url(oidc_issuer.rstrip("/"), "oidc_issuer")
            self._discovery = base + "/.well-known/openid-configuration"
            issuer = issuer or oidc_issuer
        if not (self._static or self._jwks_url or self._discovery):
            raise ConfigError("JWT: configure keys, a jwks_url or an oidc_issuer")
        self._issuer = issuer
        self._audience = frozenset([audience] if isinstance(audience, str) else audience or ())
        self._required = tuple(required_claims)
        self._leeway = leeway
        self._jwks_ttl, self._refresh_interval = jwks_ttl, refresh_interval
        self._max_stale = max_stale
        self._cache_size, self._cache_ttl = cache_size, cache_ttl
        self._roles_path = roles_claim.split(".")
        self._scheme = scheme
        self._clock = clock
        self._client = client
        self._owns_client = client is None
        self._timeout = fetch_timeout
        self._cache: OrderedDict[bytes, tuple[Principal, float]] = OrderedDict()
        self._jwks: list[_Key] = []
        self._jwks_at: float | None = None
        self._last_attempt = -math.inf
        self._lock = asyncio.Lock()
        self._background: asyncio.Task[None] | None = None
        self._index()
        self.last_error = ""  # why the last JWKS fetch failed, for health checks

    @property
    def uses_jwks(self) -> bool:
        return bool(self._jwks_url or self._discovery)

    @property
    def cached(self) -> int:
        """How many verified tokens the cache holds now."""
        return len(self._cache)

    async def authenticate(self, request: AuthRequest) -> Principal | None:
        """The ``Authenticator`` entry point: ``None`` when no bearer token was sent."""
        token = bearer_token(request, scheme=self._scheme)
        if token is None:
            return None
        # verify(), with a token already verified answered here (no coroutine of its own)
        digest = token_digest(token)
        now = self._clock()
        principal = self._cached(digest, now)
        if principal is not None:
            return principal
        return await self._verify_new(token, digest, now)

    async def verify(self, token: str) -> Principal:
        """Verify ``token`` or raise ``InvalidCredentials`` / ``AuthUnavailable``."""
        digest = token_digest(token)
        now = self._clock()
        principal = self._cached(digest, now)
        if principal is not None:
            return principal
        return await self._verify_new(token, digest, now)

    def _cached(self, digest: bytes, now: float) -> Principal | None:
        hit = self._cache.get(digest)
        if hit is not None:
            if now < hit[1]:
                self._cache.move_to_end(digest)
                return hit[0]
            del self._cache[digest]
        return None

    async def _verify_new(self, token: str, digest: bytes, now: float) -> Principal:
        principal, expires = await self._verify_cold(token, now)
        if expires > now and self._cache_size > 0:
            self._cache[digest] = (principal, expires)
            if len(self._cache) > self._cache_size:
                self._cache.popitem(last=False)
        return principal

    async def prefetch(self) -> None:
        """Load the JWKS now (at startup) instead of on the first request."""
        if self.uses_jwks:
            await self._refresh()

    async def aclose(self) -> None:
        if self._background is not None:
            self._background.cancel()
        if self._client is not None and self._owns_client:
            await self._client.aclose()
            self._client = None

    # -- verification ---------------------------------------------------------------------

    def _fail(self, reason: str, message: str) -> InvalidCredentials:
        return InvalidCredentials(reason, f"JWT: {message}", scheme=self._scheme)

    async def _verify_cold(self, token: str, now: float) -> tuple[Principal, float]:
        parts = token.split(".")
        if len(token) > MAX_CREDENTIAL_LENGTH or len(parts) != 3:
            raise self._fail("malformed", "not a compact JWS (header.payload.signature)")
        try:
            header = _b64json(parts[0])
        except ValueError:
            raise self._fail("malformed", "the header is not base64url JSON") from None
        alg, kid = (header.get("alg"), header.get("kid")) if isinstance(header, dict) else (0, 0)
        if not isinstance(alg, str) or not isinstance(kid, str | None):
            raise self._fail("malformed", "alg or kid missing or not a string")
        if alg not in self._all_algs:
            raise self._fail("alg_not_allowed", f"algorithm {alg[:20]!r} is not allowed")
        if self.uses_jwks:
            await self._ensure_keys(now)
        candidates = self._candidates(kid, alg)
        if kid is not None and kid not in self._by_kid and self.uses_jwks:
            # a key we have not seen may be a rotation: refresh, throttled
            await self._refresh()
            candidates = self._candidates(kid, alg)
        if not candidates:
            if kid is None:
                raise self._fail("unknown_kid", f"no kid, and no key without one allows {alg!r}")
            if kid not in self._by_kid:
                raise self._fail("unknown_kid", f"no key with kid {kid[:40]!r}")
            raise self._fail("alg_not_allowed", f"key {kid[:40]!r} does not allow {alg!r}")
        payload = self._check_signature(token, alg, candidates)
        try:
            claims = _JSON.decode(payload.decode())
        except ValueError:
            raise self._fail("malformed", "the payload is not JSON") from None
        if not isinstance(claims, dict):
            raise self._fail("malformed", "the payload is not a JSON object")
        exp = self._check_claims(claims, now)
        principal = self._principal(claims)
        return principal, min(exp if exp is not None else math.inf, now + self._cache_ttl)

    def _candidates(self, kid: str | None, alg: str) -> list[_Key]:
        keys = self._by_kid.get(kid, []) if kid is not None else []
        keys = [k for k in keys + self._kidless if alg in k.algorithms]
        return keys if kid is not None else keys[:MAX_KIDLESS_TRIES]

    def _check_signature(self, token: str, alg: str, candidates: list[_Key]) -> bytes:
        registry = _registry(alg)
        for key in candidates:
            try:
                return jws.deserialize_compact(token, key.key, registry=registry).payload
            except BadSignatureError:
                continue
            except (JoseError, ValueError, TypeError) as err:
                raise self._fail("malformed", f"rejected by the JWS parser ({err})") from None
        raise self._fail("bad_signature", "signature does not verify")

    def _check_claims(self, claims: dict[str, Any], now: float) -> float | None:
        for name in self._required:
            if name not in claims:
                raise self._fail("missing_claim", f"required claim {name!r} is missing")
        exp, nbf, iat = (_number(claims, n) for n in ("exp", "nbf", "iat"))
        if exp is not None and now >= exp + self._leeway:
            raise self._fail("expired", "the token has expired")
        if nbf is not None and now + self._leeway < nbf:
            raise self._fail("not_yet_valid", "the token is not valid yet (nbf)")
        if iat is not None and now + self._leeway < iat:
            raise self._fail("not_yet_valid", "the token was issued in the future (iat)")
        if self._issuer is not None and claims.get("iss") != self._issuer:
            raise self._fail("wrong_issuer", "unexpected issuer")
        if self._audience:
            aud = claims.get("aud")
            auds = [aud] if isinstance(aud, str) else aud if isinstance(aud, list) else []
            if not any(isinstance(a, str) and a in self._audience for a in auds):
                raise self._fail("wrong_audience", "the token is not meant for this audience")
        return exp

    def _principal(self, claims: dict[str, Any]) -> Principal:
        sub = claims.get("sub", "")
        if not isinstance(sub, str):
            raise self._fail("malformed", "claim 'sub' is not a string")
        scopes = split_scopes(claims.get("scope")) | split_scopes(claims.get("scp"))
        node: Any = claims
        for step in self._roles_path:
            node = node.get(step) if isinstance(node, dict) else None
        return Principal(sub, scopes, split_scopes(node), MappingProxyType(claims), self._scheme)

    # -- keys -----------------------------------------------------------------------------

    def _index(self) -> None:
        by_kid: dict[str, list[_Key]] = {}
        kidless = []
        for key in self._static + self._jwks:
            if key.kid is None:
                kidless.append(key)
            else:
                by_kid.setdefault(key.kid, []).append(key)
        self._by_kid, self._kidless = by_kid, kidless
        self._all_algs = frozenset().union(*(k.algorithms for k in self._static)) | (
            self._jwks_algorithms if self.uses_jwks else frozenset()
        )

    async def _ensure_keys(self, now: float) -> None:
        age = math.inf if self._jwks_at is None else now - self._jwks_at
        if age > self._jwks_ttl + self._max_stale:
            if self._jwks_at is not None:
                self._install([], None)  # too old to trust any more
            await self._refresh()
            if self._jwks_at is None and not self._static:
                raise AuthUnavailable(
                    "jwks_unavailable", f"JWT: no keys ({self.last_error})", scheme=self._scheme
                )
        elif age > self._jwks_ttl and (self._background is None or self._background.done()):
            # stale but usable: refresh without making this request wait
            self._background = asyncio.get_running_loop().create_task(self._refresh())

    async def _refresh(self) -> None:
        if self._lock.locked():
            async with self._lock:
                return  # another request fetched; use its result
        async with self._lock:
            now = self._clock()
            if now - self._last_attempt < self._refresh_interval:
                return
            self._last_attempt = now
            try:
                keys = _import_jwks(await self._fetch_jwks(), self._jwks_algorithms)
            except Exception as err:  # whatever failed, the keys stay as they were
                self.last_error = f"{type(err).__name__}: {err}"[:200]
                return
            self.last_error = ""
            self._install(keys, now)

    def _install(self, keys: list[_Key], at: float | None) -> None:
        old = {(k.kid, k.thumbprint) for k in self._jwks}
        if old - {(k.kid, k.thumbprint) for k in keys}:
            self._cache.clear()  # a withdrawn key must not live on in cached verdicts
        self._jwks, self._jwks_at = keys, at
        self._index()

    async def _fetch_jwks(self) -> Any:
        if self._jwks_url is None and self._discovery is not None:
            meta = await self._get_json(self._discovery)
            if not isinstance(meta, dict) or not isinstance(meta.get("jwks_uri"), str):
                raise ValueError("discovery document without jwks_uri")
            if meta.get("issuer") != self._issuer:
                # OIDC Discovery 4.3: the document must name the issuer it was fetched for
                raise ValueError("discovery document names another issuer")
            try:
                self._jwks_url = check_fetch_url(meta["jwks_uri"], "jwks_uri")
            except ConfigError as err:
                raise ValueError(str(err)) from None
        assert self._jwks_url is not None
        return await self._get_json(self._jwks_url)

    async def _get_json(self, url: str) -> Any:
        if self._client is None:
            self._client = httpx.AsyncClient(
                timeout=self._timeout, follow_redirects=False, trust_env=False
            )
        body = bytearray()
        async with self._client.stream("GET", url, headers={"accept": "application/json"}) as r:
            if r.status_code != 200:
                raise ValueError(f"{url} answered {r.status_code}")
            async for chunk in r.aiter_bytes():
                body += chunk
                if len(body) > MAX_JWKS_BYTES:
                    raise ValueError(f"{url} sent more than {MAX_JWKS_BYTES} bytes")
        return json.loads(body)
