"""API2: RS/ES/PS tokens the API also accepts as HS256, signed with its own public key.

The public key comes from a JWKS the API publishes on its own origin (the
spec's OpenID Connect discovery URL, or the usual well-known paths); apiward
never fetches keys from anywhere else.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urljoin, urlsplit

from cryptography.hazmat.primitives.asymmetric.rsa import RSAPublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from joserfc.errors import JoseError
from joserfc.jwk import ECKey, RSAKey

from apiward.core import Owasp, Severity
from apiward.scan.check import Issue, check
from apiward.scan.checks.jwt_common import Probe, escalate, find_probe
from apiward.scan.context import ScanContext
from apiward.scan.http import Exchange
from apiward.scan.jwt_forge import Jwt, key_confusion

__all__ = ["jwt_key_confusion"]

_WELL_KNOWN = ("/.well-known/jwks.json", "/jwks.json", "/.well-known/openid-configuration")
_MAX_FETCHES = 6
_MAX_KEYS = 2


def _asymmetric(jwt: Jwt) -> bool:
    return (jwt.alg or "")[:2] in ("RS", "PS", "ES")


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}".lower()


def _key_urls(ctx: ScanContext) -> list[str]:
    """Where the API may publish its keys: its discovery URLs, then the well-known paths."""
    base = ctx.client.base_url
    origin = _origin(base)
    schemes = (ctx.doc.raw.get("components") or {}).get("securitySchemes") or {}
    urls = []
    for scheme in schemes.values() if isinstance(schemes, dict) else ():
        if isinstance(scheme, dict) and isinstance(scheme.get("openIdConnectUrl"), str):
            urls.append(urljoin(base + "/", scheme["openIdConnectUrl"]))
    prefixes = [origin] + ([base] if base.lower() != origin else [])
    urls += [prefix + path for prefix in prefixes for path in _WELL_KNOWN]
    unique = dict.fromkeys(u for u in urls if _origin(u) == origin)  # never another host
    return list(unique)


async def _fetch_keys(ctx: ScanContext) -> tuple[list[dict[str, Any]], Exchange | None]:
    """The JWKS keys the API publishes, and the answer that carried them."""
    urls = _key_urls(ctx)
    fetched = 0
    while urls and fetched < _MAX_FETCHES:
        url = urls.pop(0)
        fetched += 1
        answer = await ctx.send("GET", url, ctx.anonymous, credentials=False)
        data = answer.json() if answer.ok else None
        if not isinstance(data, dict):
            continue
        keys = data.get("keys")
        if isinstance(keys, list) and keys:
            return [k for k in keys if isinstance(k, dict)], answer
        jwks = data.get("jwks_uri")
        if isinstance(jwks, str):
            target = urljoin(url, jwks)
            if _origin(target) == _origin(ctx.client.base_url) and target not in urls:
                urls.insert(0, target)
    return [], None


def _pems(jwt: Jwt, keys: list[dict[str, Any]]) -> list[bytes]:
    """PEM encodings of the keys that may have signed ``jwt``, as servers commonly hold them."""
    kty = "EC" if (jwt.alg or "").startswith("ES") else "RSA"
    kid = jwt.header.get("kid")
    fitting = [
        k for k in keys if k.get("kty") == kty and k.get("use", "sig") == "sig" and "d" not in k
    ]
    fitting.sort(key=lambda k: k.get("kid") != kid)  # the token's own key first
    out: list[bytes] = []
    for jwk in fitting[:_MAX_KEYS]:
        try:
            key = ECKey.import_key(jwk) if kty == "EC" else RSAKey.import_key(jwk)
        except (JoseError, ValueError, TypeError):
            continue
        spki = key.as_pem(private=False)
        out += [spki, spki.rstrip(b"\n")]
        raw = key.raw_value
        if isinstance(raw, RSAPublicKey):
            out.append(raw.public_bytes(Encoding.PEM, PublicFormat.PKCS1))
    return list(dict.fromkeys(out))


@check(
    "jwt-key-confusion",
    title="JWT algorithm confusion: the public key works as an HMAC secret",
    category=Owasp.API2,
    cwe=347,
    severity=Severity.CRITICAL,
    remediation=(
        "Verify tokens with the algorithm the key is for, never the token's alg header: pin "
        "RS256 (or ES256) for the RSA (EC) key, and keep HMAC keys and public keys apart."
    ),
)
async def jwt_key_confusion(ctx: ScanContext) -> None:
    """Re-signs an identity's RS/ES/PS JWT as HS256 with the API's own public key.

    The key is read from the JWKS the API publishes on the target's origin (the
    spec's openIdConnectUrl, /.well-known/jwks.json, /jwks.json or the OpenID
    configuration's jwks_uri) and tried as PEM (SPKI with and without the final
    newline, PKCS#1). It fires when a re-signed token gets the identity's view of
    a probe that refuses anonymous callers: anyone can then sign any claims.
    """
    probe = await find_probe(ctx, accept=_asymmetric)
    if probe is None:
        return
    keys, jwks = await _fetch_keys(ctx)
    for pem in _pems(probe.jwt, keys):
        answer = await probe.send(ctx, key_confusion(probe.jwt, pem))
        if probe.accepts(answer):
            await _report(ctx, probe, pem, answer, jwks)
            return


async def _report(
    ctx: ScanContext, probe: Probe, pem: bytes, answer: Exchange, jwks: Exchange | None
) -> None:
    jwt = probe.jwt
    found = await escalate(ctx, probe, lambda claims: key_confusion(jwt, pem, claims))
    message = (
        f"{probe.op.key} accepted {probe.ident.name}'s {jwt.alg} token re-signed HS256 with the "
        f"API's public key{' from ' + jwks.path if jwks else ''}: anyone can sign any claims"
    )
    second, note = probe.view, f"{probe.ident.name}'s own answer"
    if found is not None:
        message += f"; escalation proved: {found.how}"
        second, note = found.exchanges[0], "the escalation"
    exchanges, notes = [answer, second], ["the token re-signed HS256 with the public key", note]
    if jwks is not None:
        exchanges.append(jwks)
        notes.append("where the API publishes its public key")
    ctx.report(
        Issue(
            message,
            operation=probe.op,
            exchanges=exchanges,
            identity=probe.ident.name,
            confidence="certain",
            notes=notes,
        )
    )
