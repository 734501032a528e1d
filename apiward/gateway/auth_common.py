"""What every authenticator shares: the request view, the principal, the errors, and layering.

The gateway builds one :class:`AuthRequest` per request (``AuthRequest.from_scope(scope)``),
looks up the operation's ``effective_security`` and calls::

    outcome = await evaluate_requirements(op.effective_security, authenticators, request)

where ``authenticators`` maps each security scheme name of the spec to an
:class:`Authenticator` (``JwtVerifier``, ``ApiKeyAuth``, ``Introspector``...). The outcome
is a :class:`Principal` (forward it upstream) or a :class:`Denial` (answer with its status).

Failures inside an authenticator raise :class:`AuthError` subclasses whose ``reason`` is a
short code for the audit log and whose message names what is wrong, never the credential.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Protocol
from urllib.parse import parse_qsl, urlsplit

from apiward.core import SecurityRequirement
from apiward.errors import ApiwardError, ConfigError

__all__ = [
    "ANONYMOUS",
    "AuthError",
    "AuthRequest",
    "AuthUnavailable",
    "Authenticator",
    "Denial",
    "InvalidCredentials",
    "Principal",
    "bearer_token",
    "check_fetch_url",
    "evaluate_requirements",
    "split_scopes",
]

MAX_CREDENTIAL_LENGTH = 8192  # longer than any sane token; caps hashing/parsing work
_B64TOKEN = re.compile(r"[A-Za-z0-9\-._~+/]+=*")  # RFC 6750 section 2.1
_LOOPBACK = {"127.0.0.1", "::1", "localhost"}


class AuthError(ApiwardError):
    """A credential was refused. ``reason`` is a stable code for logs and metrics."""

    status = 401

    def __init__(self, reason: str, message: str, *, scheme: str = "") -> None:
        super().__init__(message)
        self.reason = reason
        self.scheme = scheme


class InvalidCredentials(AuthError):
    """The credential is malformed, unknown, expired, revoked or fails verification."""


class AuthUnavailable(AuthError):
    """A backend needed to decide (JWKS, introspection) cannot answer: the gateway denies."""

    status = 503


@dataclass(frozen=True, slots=True)
class Principal:
    """Who made the request, as established by one scheme (or several, see ``parts``).

    ``claims`` are the verified claims (JWT / introspection) or the key's metadata.
    A layered principal (``apiKey`` **and** ``bearer``) keeps each scheme's principal in
    ``parts``; its subject is the first non-empty one and its grants are their union.
    ``scheme`` is the spec's security scheme name.
    """

    subject: str
    scopes: frozenset[str]
    roles: frozenset[str]
    claims: Mapping[str, Any] = field(repr=False)
    scheme: str
    parts: tuple[Principal, ...] = ()

    @property
    def grants(self) -> frozenset[str]:
        """What a requirement's scope list is checked against (OpenAPI 3.1 allows roles there)."""
        return self.scopes | self.roles


ANONYMOUS = Principal("", frozenset(), frozenset(), {}, "anonymous")


@dataclass(frozen=True, slots=True)
class Denial:
    """The request is refused: answer ``status`` (401, 403 or 503); log ``reason``."""

    status: int
    reason: str
    message: str
    scheme: str = ""


class Authenticator(Protocol):
    """One security scheme: ``None`` when the request carries no credential for it."""

    async def authenticate(self, request: AuthRequest) -> Principal | None: ...


class AuthRequest:
    """The parts of a request that carry credentials, parsed lazily.

    A credential location that occurs twice (two ``Authorization`` headers, ``?api_key=``
    twice) is ambiguous and refused rather than guessed at: proxies and apps disagree
    on which copy wins.
    """

    __slots__ = ("_cookies", "_headers", "_query", "_query_string", "_raw", "tls_client")

    def __init__(
        self,
        headers: Iterable[tuple[str, str]],
        query_string: str = "",
        *,
        tls_client: Mapping[str, Any] | None = None,
    ) -> None:
        self._headers: dict[str, list[str]] | None = _multi((k.lower(), v) for k, v in headers)
        self._raw: Sequence[tuple[bytes, bytes]] = ()
        # the server's ASGI TLS extension (apiward.gateway.tls), for mutualTLS; None without TLS
        self.tls_client = tls_client
        self._query_string = query_string
        self._query: dict[str, list[str]] | None = None
        self._cookies: dict[str, list[str]] | None = None

    @classmethod
    def from_scope(cls, scope: Mapping[str, Any]) -> AuthRequest:
        """Build from an ASGI HTTP scope (headers as latin-1, as HTTP defines them)."""
        # built slot by slot: this runs once per request, __init__'s parsing is not needed
        request = cls.__new__(cls)
        extensions = scope.get("extensions")
        tls = extensions.get("tls") if extensions else None
        request.tls_client = tls if tls is not None and isinstance(tls, Mapping) else None
        request._query_string = scope.get("query_string", b"").decode("latin-1")
        request._query = None
        request._cookies = None
        # decoded on demand: a request is asked for one or two headers, not all of them
        request._headers = None
        request._raw = scope["headers"]
        return request

    def _header_values(self, name: str) -> list[str]:
        if self._headers is not None:
            return self._headers.get(name, [])
        key = name.encode("latin-1")
        return [v.decode("latin-1") for k, v in self._raw if k.lower() == key]

    def header(self, name: str) -> str | None:
        name = name.lower()
        if self._headers is not None:
            return _one_of(self._headers.get(name), name, "header")
        # _header_values, inlined: every authenticated request asks for one header
        key = name.encode("latin-1")
        values = []
        for k, v in self._raw:
            if k.lower() == key:
                values.append(v.decode("latin-1"))
        return _one_of(values, name, "header")

    def query(self, name: str) -> str | None:
        if self._query is None:
            self._query = _multi(parse_qsl(self._query_string, keep_blank_values=True))
        return _one(self._query, name, "query parameter")

    def cookie(self, name: str) -> str | None:
        if self._cookies is None:
            pairs = []
            for line in self._header_values("cookie"):
                for item in line.split(";"):
                    k, sep, v = item.strip().partition("=")
                    if sep:
                        pairs.append((k, v))
            self._cookies = _multi(pairs)
        return _one(self._cookies, name, "cookie")


def _multi(pairs: Iterable[tuple[str, str]]) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for k, v in pairs:
        out.setdefault(k, []).append(v)
    return out


def _one(values: dict[str, list[str]], name: str, what: str) -> str | None:
    return _one_of(values.get(name), name, what)


def _one_of(found: list[str] | None, name: str, what: str) -> str | None:
    if not found:
        return None
    if len(found) > 1:
        raise InvalidCredentials("ambiguous", f"the {what} {name!r} occurs more than once")
    if len(found[0]) > MAX_CREDENTIAL_LENGTH:
        raise InvalidCredentials("too_large", f"the {what} {name!r} is too long")
    return found[0]


def token_digest(token: str) -> bytes:
    """The key a token is cached under: its SHA-256, so the cache never holds the token."""
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).digest()


def bearer_token(request: AuthRequest, *, scheme: str = "") -> str | None:
    """The token of ``Authorization: Bearer <token>``; ``None`` without that header."""
    value = request.header("authorization")
    if value is None:
        return None
    kind, _, token = value.strip().partition(" ")
    if kind.lower() != "bearer":
        return None
    token = token.strip()
    if not _B64TOKEN.fullmatch(token):
        raise InvalidCredentials("malformed", "the bearer token is malformed", scheme=scheme)
    return token


def split_scopes(value: Any) -> frozenset[str]:
    """``scope`` as RFC 8693 sends it (one space-separated string) or as a list (``scp``)."""
    if isinstance(value, str):
        return frozenset(value.split())
    if isinstance(value, list | tuple):
        return frozenset(s for s in value if isinstance(s, str))
    return frozenset()


def check_fetch_url(url: str, what: str) -> str:
    """Keys and token answers travel over HTTPS; plain HTTP only to loopback (tests, sidecars)."""
    parts = urlsplit(url)
    if parts.scheme == "https" and parts.hostname:
        return url
    if parts.scheme == "http" and parts.hostname in _LOOPBACK:
        return url
    raise ConfigError(f"{what} must be an https:// URL (http:// only for loopback): {url!r}")


async def evaluate_requirements(
    requirements: Sequence[SecurityRequirement],
    authenticators: Mapping[str, Authenticator],
    request: AuthRequest,
    *,
    allow_unsecured: bool = False,
) -> Principal | Denial:
    """Decide a request against a ``security`` list: OR of alternatives, each an AND of schemes.

    An alternative passes when every scheme in it authenticates and grants the scopes it
    lists. The first passing alternative wins. The empty alternative ``{}`` admits anonymous
    callers, but only if no credential they sent was refused (a bad token is not "no token").
    An empty list denies unless ``allow_unsecured`` (the spec said ``security: []`` on purpose).
    Unknown schemes, backend failures and anything unexpected deny: this never fails open.
    """
    if not requirements:
        if allow_unsecured:
            return ANONYMOUS
        return Denial(401, "no_security", "the operation declares no security requirement")
    results: dict[str, Principal | AuthError | None] = {}
    first = requirements[0].schemes
    if len(first) == 1:
        # the common shape (one scheme first): its success needs none of the bookkeeping
        # below; anything else goes through it, this scheme's result already in ``results``
        for name, scopes in first.items():
            result = await _authenticate(name, authenticators, request, results)
            if isinstance(result, Principal) and (
                not scopes
                or result.scopes.issuperset(scopes)
                or _judge(name, scopes, result) is None
            ):
                return result
    worst: Denial | None = None
    anonymous_ok = False
    for requirement in requirements:
        if requirement.is_anonymous:
            anonymous_ok = True
            continue
        parts: list[Principal] = []
        denial: Denial | None = None
        for name, scopes in requirement.schemes.items():
            result = await _authenticate(name, authenticators, request, results)
            denial = _judge(name, scopes, result)
            if denial is not None:
                break
            assert isinstance(result, Principal)
            parts.append(result)
        if denial is None:
            return _combine(parts)
        worst = denial if worst is None or _rank(denial) > _rank(worst) else worst
    if anonymous_ok:
        # every credential sent must pass before "anonymous" may: check the ones skipped above
        for requirement in requirements:
            for name in requirement.schemes:
                await _authenticate(name, authenticators, request, results)
    refused = [r for r in results.values() if isinstance(r, AuthError)]
    if anonymous_ok and not refused:
        return ANONYMOUS
    for err in refused:
        denial = Denial(err.status, err.reason, err.message, err.scheme)
        worst = denial if worst is None or _rank(denial) > _rank(worst) else worst
    return worst or Denial(401, "denied", "no security requirement is met")


async def _authenticate(
    name: str,
    authenticators: Mapping[str, Authenticator],
    request: AuthRequest,
    results: dict[str, Principal | AuthError | None],
) -> Principal | AuthError | None:
    # a scheme shared by several alternatives is checked once per request
    if name in results:
        return results[name]
    auth = authenticators.get(name)
    result: Principal | AuthError | None
    if auth is None:
        result = AuthUnavailable("scheme_not_configured", f"no authenticator for {name!r}")
    else:
        try:
            result = await auth.authenticate(request)
        except AuthError as err:
            result = err
        except Exception as err:  # any other failure must deny, not crash open
            result = AuthUnavailable("internal_error", f"{name}: {type(err).__name__}")
    if isinstance(result, AuthError) and not result.scheme:
        result.scheme = name
    elif isinstance(result, Principal) and result.scheme != name:
        result = replace(result, scheme=name)
    results[name] = result
    return result


def _judge(
    name: str, scopes: tuple[str, ...], result: Principal | AuthError | None
) -> Denial | None:
    if result is None:
        return Denial(401, "missing_credentials", f"no credentials for {name!r}", name)
    if isinstance(result, AuthError):
        return Denial(result.status, result.reason, result.message, name)
    if not scopes or result.scopes.issuperset(scopes):
        return None
    missing = set(scopes) - result.grants
    if missing:
        return Denial(403, "insufficient_scope", f"{name}: missing {sorted(missing)}", name)
    return None


def _rank(denial: Denial) -> int:
    # report the most informative failure: a refused credential over a missing one,
    # a scope shortfall (authenticated) over both, a backend outage over everything
    return {503: 4, 403: 3}.get(denial.status, 2 if denial.reason != "missing_credentials" else 1)


def _combine(parts: list[Principal]) -> Principal:
    if len(parts) == 1:
        return parts[0]
    return Principal(
        subject=next((p.subject for p in parts if p.subject), ""),
        scopes=frozenset().union(*(p.scopes for p in parts)),
        roles=frozenset().union(*(p.roles for p in parts)),
        claims={p.scheme: p.claims for p in parts},
        scheme="+".join(p.scheme for p in parts),
        parts=tuple(parts),
    )
