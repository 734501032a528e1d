"""One entry of ``gateway.apis``: an API behind the gateway, its upstream and its policies.

Everything a policy reads is typed here, so a mistake in the file is reported with its
key path before the gateway starts (``gateway.apis[0].rate-limits[1].per: ...``).
Secrets may be written as ``${ENV_VAR}``; the gateway expands them when it builds.
"""

from __future__ import annotations

import ipaddress
import math
import re
from typing import Annotated, Literal

from pydantic import BeforeValidator, Field, field_validator, model_validator

from apiward.config.fields import Section

__all__ = [
    "AccessRuleSection",
    "ApiSection",
    "AuthSection",
    "CorsSection",
    "Duration",
    "HealthSection",
    "IntrospectionSection",
    "IpSection",
    "JwtKeySection",
    "JwtSection",
    "MtlsSection",
    "RateLimitSection",
    "ResponseFilterSection",
    "SecurityHeadersSection",
    "UpstreamSection",
    "ValidationSection",
    "parse_duration",
    "redact_url",
]

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)?\s*$")
_MAX_DURATION = 366 * 86400.0
_UNITS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0, None: 1.0}


def parse_duration(value: object) -> float:
    """``30``, ``"30s"``, ``"5m"``, ``"1h"``, ``"250ms"``, ``"1d"`` -> seconds (> 0)."""
    if isinstance(value, bool):
        raise ValueError(f"{value!r} is not a duration")
    if isinstance(value, int | float):
        seconds = float(value)
    else:
        m = _DURATION.match(str(value))
        if m is None:
            raise ValueError(f"{value!r} is not a duration: write e.g. 30, 30s, 5m, 1h, 250ms")
        seconds = float(m.group(1)) * _UNITS[m.group(2)]
    if not seconds > 0 or not math.isfinite(seconds) or seconds > _MAX_DURATION:
        raise ValueError(f"a duration must be more than 0 and at most 366d, got {value!r}")
    return seconds


def redact_url(url: str) -> str:
    """``url`` with any ``user:password@`` hidden: config errors and logs must not show it."""
    return re.sub(r"//[^/@\s]*@", "//***@", url)


Duration = Annotated[float, BeforeValidator(parse_duration)]
"""Seconds, written as a number or with a unit: ``30``, ``30s``, ``5m``, ``1h``, ``250ms``."""


def _cidr(value: str) -> str:
    try:
        ipaddress.ip_network(value, strict=False)
    except ValueError:
        raise ValueError(f"{value!r} is not an IP address or CIDR range") from None
    return value


class HealthSection(Section):
    """Active health checks of the upstream's targets."""

    path: str | None = Field(default=None, description="Path to GET, e.g. `/health` (none: off).")
    interval: Duration = Field(default=5.0, description="Seconds between checks (`10s`, `1m`).")
    timeout: Duration = Field(default=2.0, description="Seconds a check may take.")
    unhealthy_threshold: int = Field(default=3, ge=1, description="Failures before 'down'.")
    healthy_threshold: int = Field(default=2, ge=1, description="Successes before 'up' again.")


class UpstreamSection(Section):
    """Where the API really runs. Several targets are balanced round-robin."""

    targets: list[str] = Field(min_length=1, description="Base URLs, e.g. `http://10.0.0.5:8000`.")
    connect_timeout: Duration = Field(default=5.0, description="Seconds to connect.")
    read_timeout: Duration = Field(
        default=60.0, description="Seconds to wait for data (response headers included)."
    )
    timeout: Duration | None = Field(
        default=None, description="Seconds for the whole exchange (unset: long downloads ok)."
    )
    retries: int = Field(
        default=1, ge=0, le=5, description="Retries of idempotent calls on another target."
    )
    max_connections: int = Field(default=512, ge=1, description="Requests in flight per target.")
    health: HealthSection = Field(default_factory=HealthSection)
    ca_file: str | None = Field(default=None, description="CA bundle for https targets.")
    client_cert: str | None = Field(default=None, description="Client certificate (mTLS).")
    client_key: str | None = Field(default=None, description="Its private key.")
    verify: bool = Field(default=True, description="Verify https targets' certificates.")

    @field_validator("targets")
    @classmethod
    def _targets(cls, value: list[str]) -> list[str]:
        for url in value:
            if not re.match(r"^https?://[^/\s]+(/\S*)?$", url):
                raise ValueError(f"{redact_url(url)!r} is not an http(s) URL")
        return [u.rstrip("/") for u in value]


class JwtKeySection(Section):
    """A static key: an HMAC secret or a public key file."""

    kid: str | None = Field(default=None, description="Key id the token's `kid` must name.")
    algorithms: list[str] = Field(min_length=1, description="Allowed `alg`s, e.g. `[RS256]`.")
    secret: str | None = Field(default=None, description="HMAC secret (use `${ENV_VAR}`).")
    public_key_file: str | None = Field(default=None, description="PEM public key file.")

    @model_validator(mode="after")
    def _one_source(self) -> JwtKeySection:
        if (self.secret is None) == (self.public_key_file is None):
            raise ValueError("give exactly one of secret and public-key-file")
        if any(a.lower() == "none" for a in self.algorithms):
            raise ValueError("`none` is never an allowed JWT algorithm")
        return self


class JwtSection(Section):
    """JWT bearer tokens for one security scheme: static keys, a JWKS URL or OIDC discovery."""

    keys: list[JwtKeySection] = Field(default_factory=list)
    jwks_url: str | None = Field(default=None, description="JWKS URL (fetched, cached, rotated).")
    oidc_url: str | None = Field(default=None, description="OIDC issuer (discovery document).")
    issuer: str | None = Field(default=None, description="Required `iss`.")
    audience: str | None = Field(default=None, description="Required `aud` (unset: not checked).")
    algorithms: list[str] = Field(
        default_factory=lambda: ["RS256", "ES256", "EdDSA"],
        description="Allowed `alg`s for JWKS/OIDC keys.",
    )
    leeway: float = Field(default=30.0, ge=0, description="Seconds of clock skew allowed.")
    roles_claim: str = Field(
        default="roles", description="Claim holding the roles (scopes: `scope`/`scp`)."
    )

    @model_validator(mode="after")
    def _a_source(self) -> JwtSection:
        if not (self.keys or self.jwks_url or self.oidc_url):
            raise ValueError("give keys, jwks-url or oidc-url")
        return self


class IntrospectionSection(Section):
    """Opaque OAuth 2.0 tokens checked at an RFC 7662 introspection endpoint."""

    url: str = Field(description="The introspection endpoint.")
    client_id: str = Field(description="The gateway's client id there.")
    client_secret: str = Field(description="Its secret (use `${ENV_VAR}`).")
    cache_ttl: float = Field(default=60.0, ge=0, description="Seconds an answer is reused.")


class MtlsSection(Section):
    """`mutualTLS` schemes: the client certificate TLS verified here names the caller."""

    identity: Literal["cn", "subject", "san_dns", "san_email", "san_uri", "fingerprint"] = Field(
        default="cn",
        description="What names the caller: the CN, the whole subject, a SAN or the SHA-256 "
        "fingerprint of the certificate.",
    )
    roles: dict[str, list[str]] = Field(
        default_factory=dict, description="Subject -> roles granted to it."
    )


class AuthSection(Section):
    """How the API's security schemes are checked, by scheme name as in the spec."""

    jwt: dict[str, JwtSection] = Field(default_factory=dict)
    introspection: dict[str, IntrospectionSection] = Field(default_factory=dict)
    mtls: dict[str, MtlsSection] = Field(default_factory=dict)
    api_keys_in_query: bool = Field(
        default=False,
        description="Accept API keys the spec puts in the query string (they leak into "
        "logs, browser history and Referer headers: refused unless you set this).",
    )
    allow_undeclared_security: bool = Field(
        default=False,
        description="Let anonymous callers reach operations with no security declared "
        "anywhere (by default they are refused: deny by default).",
    )


class AccessRuleSection(Section):
    """Callers of `operations` must hold one of `roles` and every `claims` value."""

    operations: list[str] = Field(min_length=1, description="operationIds, `METHOD /path`, `*`.")
    roles: list[str] = Field(default_factory=list)
    claims: dict[str, str | list[str]] = Field(default_factory=dict)


class RateLimitSection(Section):
    """`requests` per `per` for the operations selected, counted per `by`."""

    operations: str = Field(default="*", description="`*`, an operationId or `METHOD /path`.")
    requests: int = Field(ge=1)
    per: Duration = Field(description="Window: seconds or `1s`, `1m`, `1h`, `1d`.")
    by: Literal["subject", "user", "ip", "app", "key", "global"] = Field(
        default="subject",
        description="Who is counted: the user (else IP), user, IP (before authentication), "
        "client app, API key, or everyone together.",
    )
    algorithm: Literal["gcra", "sliding-window"] = "gcra"
    burst: int | None = Field(default=None, ge=1, description="GCRA only: at most this at once.")
    per_operation: bool = Field(
        default=True, description="false: one budget across the operations selected (a quota)."
    )


class IpSection(Section):
    """IP allow/deny lists (CIDRs); the client IP comes through trusted proxies only."""

    allow: list[str] = Field(default_factory=list, description="Only these (empty: everyone).")
    deny: list[str] = Field(default_factory=list, description="Never these (wins over allow).")
    operations: dict[str, IpSection] = Field(
        default_factory=dict, description="Per operation: `METHOD /path` or operationId."
    )

    @field_validator("allow", "deny")
    @classmethod
    def _cidrs(cls, value: list[str]) -> list[str]:
        return [_cidr(v) for v in value]


class CorsSection(Section):
    """Cross-origin requests from browsers; off unless origins are listed."""

    allow_origins: list[str] = Field(default_factory=list, description="`https://app.example.com`")
    allow_methods: list[str] | None = Field(
        default=None, description="Default: the methods the spec declares for the path."
    )
    allow_headers: list[str] = Field(default_factory=lambda: ["authorization", "content-type"])
    expose_headers: list[str] = Field(default_factory=list)
    allow_credentials: bool = False
    max_age: int = Field(default=600, ge=0)


class ValidationSection(Section):
    """Requests checked against the operation's schemas."""

    enabled: bool = True
    max_body_bytes: int = Field(default=1 << 20, ge=0, description="Largest request body.")
    max_depth: int = Field(default=32, ge=1, description="Deepest JSON nesting.")
    allow_unknown_query: bool = Field(
        default=False, description="Let undeclared query parameters through."
    )
    allow_unknown_properties: bool = Field(
        default=False,
        description="Let request-body properties the schema does not list through (objects "
        "that say nothing of `additionalProperties` are closed by default).",
    )


class ResponseFilterSection(Section):
    """Least data out: only declared response fields leave, sensitive values masked."""

    enabled: bool = True
    mask_fields: list[str] = Field(
        default_factory=list, description="More field-name words to mask."
    )
    keep_fields: list[str] = Field(default_factory=list, description="Field names never masked.")
    mask_card_numbers: bool = True
    max_body_bytes: int = Field(default=8 << 20, ge=1, description="Largest JSON body filtered.")
    mask_upstream_errors: bool = Field(
        default=True,
        description="A 5xx answer that is not JSON (a framework's error page, a stack "
        "trace) goes out as a generic JSON error with the same status.",
    )


class SecurityHeadersSection(Section):
    """Response headers added where the app did not set them."""

    enabled: bool = True
    hsts_max_age: int | None = Field(default=None, ge=0, description="Strict-Transport-Security.")
    remove: list[str] = Field(
        default_factory=lambda: ["server", "x-powered-by"],
        description="Response headers removed (they tell attackers the stack).",
    )


class ApiSection(Section):
    """One API behind the gateway."""

    name: str = Field(pattern=r"^[A-Za-z0-9_.-]{1,64}$", description="Names it in logs/metrics.")
    spec: str = Field(description="Its OpenAPI document (file or loopback URL).")
    upstream: UpstreamSection
    base_path: str | None = Field(
        default=None, description="Path prefix it is served under (default: the spec's servers)."
    )
    hosts: list[str] = Field(default_factory=list, description="Host names it answers (any).")
    passthrough: list[str] = Field(
        default_factory=list, description="`[METHOD] /path` or `/prefix/*` let through unchecked."
    )
    auth: AuthSection = Field(default_factory=AuthSection)
    authorization: list[AccessRuleSection] = Field(default_factory=list)
    rate_limits: list[RateLimitSection] = Field(default_factory=list)
    ip: IpSection = Field(default_factory=IpSection)
    cors: CorsSection = Field(default_factory=CorsSection)
    validation: ValidationSection = Field(default_factory=ValidationSection)
    response_filter: ResponseFilterSection = Field(default_factory=ResponseFilterSection)
    security_headers: SecurityHeadersSection = Field(default_factory=SecurityHeadersSection)
