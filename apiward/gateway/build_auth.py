"""Authenticators for one API's security schemes, from its ``auth:`` config section.

Each scheme the spec declares gets the authenticator its type calls for, configured
under the scheme's name; a scheme with none configured gets no authenticator, so a
requirement that needs it is refused (deny by default) and :func:`build_authenticators`
lists it in ``unconfigured`` for the start-up warning.

=================  =================================================================
spec scheme        authenticator
=================  =================================================================
apiKey             the gateway's key store (``gateway.keys``), at the spec's location
                   (in the query string only with ``auth.api-keys-in-query``)
http bearer,       ``auth.jwt.<scheme>`` (static keys, JWKS, OIDC discovery), or
oauth2,            ``auth.introspection.<scheme>`` for opaque tokens (RFC 7662)
openIdConnect
mutualTLS          ``auth.mtls.<scheme>`` (the certificate TLS verified here)
http basic         none: passwords do not belong at a gateway
=================  =================================================================
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, cast

from apiward.config.env import expand
from apiward.config.gateway_api import ApiSection, JwtSection
from apiward.core import Document
from apiward.errors import ConfigError
from apiward.gateway.auth_common import Authenticator
from apiward.gateway.auth_introspect import Introspector
from apiward.gateway.auth_jwt import JwtKey, JwtVerifier
from apiward.gateway.auth_keys import ApiKeyAuth, ApiKeyStore
from apiward.gateway.tls import MutualTlsAuth

__all__ = ["BuiltAuth", "build_authenticators"]


@dataclass
class BuiltAuth:
    """The authenticators by scheme name, and the schemes left without one."""

    authenticators: dict[str, Authenticator] = field(default_factory=dict)
    unconfigured: list[str] = field(default_factory=list)
    closers: list[Any] = field(default_factory=list)  # things with ``aclose()``


def build_authenticators(
    doc: Document, section: ApiSection, keys: ApiKeyStore | None, *, where: str
) -> BuiltAuth:
    """One authenticator per configured scheme of ``doc`` (``where`` names the config key)."""
    out = BuiltAuth()
    auth = section.auth
    declared = doc.security_schemes
    for kind, names in (("jwt", auth.jwt), ("introspection", auth.introspection)):
        for name in names:
            if name not in declared:
                raise ConfigError(
                    f"the spec declares no security scheme {name!r}",
                    key=f"{where}.auth.{kind}.{name}",
                )
    for name, scheme in declared.items():
        key = f"{where}.auth"
        if scheme.type == "apiKey":
            if keys is None:
                out.unconfigured.append(name)
                continue
            location = scheme.param_in if scheme.param_in in ("header", "query", "cookie") else ""
            if not location:
                raise ConfigError(f"apiKey scheme {name!r} has no valid `in`", key=key)
            if location == "query" and not auth.api_keys_in_query:
                out.unconfigured.append(name)  # refused until the operator says otherwise
                continue
            out.authenticators[name] = ApiKeyAuth(
                keys,
                name=scheme.param_name or "X-API-Key",
                location=cast(Literal["header", "query", "cookie"], location),
                allow_query=auth.api_keys_in_query,
                scheme=name,
            )
        elif name in auth.jwt:
            verifier = _jwt(auth.jwt[name], name, f"{key}.jwt.{name}")
            out.authenticators[name] = verifier
            out.closers.append(verifier)
        elif name in auth.introspection:
            conf = auth.introspection[name]
            where_i = f"{key}.introspection.{name}"
            introspector = Introspector(
                conf.url,
                expand(conf.client_id, where_i + ".client-id"),
                expand(conf.client_secret, where_i + ".client-secret"),
                cache_ttl=conf.cache_ttl,
                scheme=name,
            )
            out.authenticators[name] = introspector
            out.closers.append(introspector)
        elif scheme.type == "mutualTLS" and name in auth.mtls:
            m = auth.mtls[name]
            out.authenticators[name] = MutualTlsAuth(
                identity=m.identity, roles=m.roles, scheme=name
            )
        else:
            out.unconfigured.append(name)
    return out


def _jwt(conf: JwtSection, scheme: str, where: str) -> JwtVerifier:
    keys = []
    for i, k in enumerate(conf.keys):
        material: str | bytes
        if k.secret is not None:
            material = expand(k.secret, f"{where}.keys[{i}].secret")
        else:
            assert k.public_key_file is not None  # the section's validator says one of them
            try:
                material = Path(k.public_key_file).read_bytes()
            except OSError as exc:
                raise ConfigError(
                    f"cannot read {k.public_key_file}: {exc.strerror or exc}",
                    key=f"{where}.keys[{i}].public-key-file",
                ) from None
        keys.append(JwtKey(material, tuple(k.algorithms), k.kid))
    try:
        return JwtVerifier(
            keys,
            jwks_url=conf.jwks_url,
            oidc_issuer=conf.oidc_url,
            jwks_algorithms=tuple(conf.algorithms),
            issuer=conf.issuer,
            audience=conf.audience,
            require_audience=conf.audience is not None,
            leeway=conf.leeway,
            roles_claim=conf.roles_claim,
            scheme=scheme,
        )
    except ConfigError as exc:
        raise ConfigError(str(exc), key=where) from None
