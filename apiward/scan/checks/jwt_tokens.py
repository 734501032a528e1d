"""API2: JWTs the API accepts although it should not: unsigned, badly signed, cracked, expired.

Each check forges from an identity's real token (so the claims are ones the
API issues) and sends it on a probe request that refuses anonymous callers and
junk tokens; see :mod:`apiward.scan.checks.jwt_common`. When a forgery is
accepted the check also tries to escalate with it, and says so when it could.
"""

from __future__ import annotations

import time
from typing import Any

from apiward.core import Owasp, Severity
from apiward.scan.check import Issue, check
from apiward.scan.checks.jwt_common import (
    Escalation,
    Probe,
    cracked,
    escalate,
    find_probe,
    junk_signed,
    masked,
)
from apiward.scan.context import ScanContext
from apiward.scan.http import Exchange
from apiward.scan.jwt_forge import (
    HS_ALGORITHMS,
    NONE_SPELLINGS,
    Jwt,
    expired_claims,
    forge_none,
    parse,
    sign_hs,
    strip_signature,
    tamper_signature,
    weak_secrets,
)

__all__ = [
    "jwt_alg_none",
    "jwt_expiry_not_enforced",
    "jwt_signature_not_verified",
    "jwt_weak_secret",
]

_VERIFY = (
    "Verify every token with a JWT library, allow-listing the one algorithm the API issues "
    "(never the token's own alg header), and require exp."
)


def _signed(jwt: Jwt) -> bool:
    return (jwt.alg or "").lower() != "none"


def _report(
    ctx: ScanContext,
    probe: Probe,
    message: str,
    accepted: Exchange,
    escalation: Escalation | None,
    *,
    note: str,
) -> None:
    """One issue: the accepted forgery, then the escalation's proof (critical) when there is one."""
    exchanges, notes = [accepted, probe.view], [note, f"{probe.ident.name}'s own answer"]
    if escalation is not None:
        message += f"; escalation proved: {escalation.how}"
        exchanges = [accepted, *escalation.exchanges]
        notes = [note, "the escalation", "for comparison"]
    ctx.report(
        Issue(
            message,
            operation=probe.op,
            exchanges=exchanges,
            identity=probe.ident.name,
            confidence="certain",
            severity=Severity.CRITICAL if escalation is not None else None,
            notes=notes,
        )
    )


@check(
    "jwt-alg-none",
    title="Unsigned JWTs (alg none) are accepted",
    category=Owasp.API2,
    cwe=347,
    severity=Severity.CRITICAL,
    remediation=_VERIFY,
)
async def jwt_alg_none(ctx: ScanContext) -> None:
    """Sends an identity's own JWT unsigned, with ``alg`` set to none (4 spellings).

    The probe is a GET the identity reads and anonymous callers cannot. It fires
    when an unsigned token gets the identity's view: anyone can then write any
    claims. It then forges tokens naming an admin identity, or with admin claims,
    and reports the escalation it proves.
    """
    probe = await find_probe(ctx, accept=_signed)
    if probe is None:
        return
    jwt = probe.jwt
    for spelling in NONE_SPELLINGS:
        answer = await probe.send(ctx, forge_none(jwt, None, spelling))
        if not probe.accepts(answer):
            continue

        def unsigned(claims: dict[str, Any], alg: str = spelling) -> str:
            return forge_none(jwt, claims, alg)

        _report(
            ctx, probe,
            f"{probe.op.key} accepted {probe.ident.name}'s token unsigned "
            f"(alg {spelling!r}): anyone can forge any identity",
            answer, await escalate(ctx, probe, unsigned),
            note=f"the token with alg {spelling!r} and no signature",
        )  # fmt: skip
        return


@check(
    "jwt-signature-not-verified",
    title="JWT signatures are not verified",
    category=Owasp.API2,
    cwe=347,
    severity=Severity.CRITICAL,
    remediation=_VERIFY,
)
async def jwt_signature_not_verified(ctx: ScanContext) -> None:
    """Sends an identity's own JWT with its signature removed, then with it corrupted.

    The header keeps its algorithm. It fires when either gets the identity's view
    on a probe that refuses anonymous callers: the signature is never checked, so
    any claims pass. It then tries to escalate with changed claims.
    """
    probe = await find_probe(ctx, accept=_signed)
    if probe is None:
        return
    jwt = probe.jwt
    for label, forged in (
        ("without its signature", strip_signature(probe.jwt)),
        ("with a corrupted signature", tamper_signature(probe.jwt)),
    ):
        answer = await probe.send(ctx, forged)
        if probe.accepts(answer):
            escalation = await escalate(ctx, probe, lambda claims: junk_signed(jwt, claims))
            _report(
                ctx, probe,
                f"{probe.op.key} accepted {probe.ident.name}'s token {label}: the signature "
                "is not verified", answer, escalation, note=f"the token {label}",
            )  # fmt: skip
            return


@check(
    "jwt-weak-secret",
    title="JWTs are signed with a guessable secret",
    category=Owasp.API2,
    cwe=1391,
    severity=Severity.HIGH,
    remediation=(
        "Sign tokens with a random key of at least 256 bits from a secret store (or use an "
        "asymmetric algorithm), and rotate it now: every token ever issued can be forged."
    ),
)
async def jwt_weak_secret(ctx: ScanContext) -> None:
    """Cracks an identity's HS256/384/512 JWT offline with apiward's wordlist of weak secrets.

    It fires when a word of the list verifies the signature (the secret is shown
    masked). It then signs tokens with it, one naming an admin identity or with
    admin claims, and reports critical when the API lets one in as an admin.
    """
    for ident in [*ctx.users(), *ctx.admins()]:
        jwt = parse(ident.token) if ident.token else None
        secret = cracked(jwt) if jwt is not None else None
        if jwt is None or secret is None:
            continue
        alg = jwt.alg if jwt.alg in HS_ALGORITHMS else "HS256"
        message = (
            f"{ident.name}'s token is signed {alg} with the secret {masked(secret)}, a word of "
            f"apiward's list of {len(weak_secrets())} common JWT secrets"
        )
        probe = await find_probe(ctx, [ident])
        if probe is None:
            ctx.report(Issue(message, identity=ident.name, confidence="certain", key="secret"))
            return

        def forge(
            claims: dict[str, Any], key: bytes = secret, alg: str = alg, head: Jwt = jwt
        ) -> str:
            token = sign_hs(claims, key, alg, head.header)
            # a token signed with the real key works on the live API: never in a report
            ctx.client.secrets.add(token, "TOKEN_SIGNED_WITH_CRACKED_SECRET")
            return token

        own = await probe.send(ctx, forge({**jwt.claims, "iat": int(time.time())}))
        if not probe.accepts(own):
            ctx.report(Issue(message, identity=ident.name, confidence="certain", key="secret"))
            return
        _report(
            ctx, probe, message + f"; a token signed with it got {ident.name}'s view of "
            f"{probe.op.key}", own, await escalate(ctx, probe, forge),
            note="a token apiward signed with the cracked secret",
        )  # fmt: skip
        return


@check(
    "jwt-expiry-not-enforced",
    title="Expired JWTs are accepted",
    category=Owasp.API2,
    cwe=613,
    severity=Severity.MEDIUM,
    remediation=(
        "Require the exp claim and check it on every request (a leeway of seconds, not hours); "
        "keep access tokens short-lived."
    ),
)
async def jwt_expiry_not_enforced(ctx: ScanContext) -> None:
    """Sends an identity's expired JWT on a probe the identity can read.

    The expired token is the identity's ``expired-token`` from the config or,
    when its HMAC secret is in apiward's wordlist, its own claims with ``exp``
    an hour ago, re-signed with that secret. It fires when the expired token
    gets the identity's view. Without either (the usual case on a well-keyed
    API) it sends nothing.
    """
    now = int(time.time())
    for ident in [*ctx.users(), *ctx.admins()]:
        expired, how = _expired_token(ident.expired_token, ident.token, now)
        if expired is not None and how.startswith("re-signed"):
            ctx.client.secrets.add(expired, "TOKEN_SIGNED_WITH_CRACKED_SECRET")
        if expired is None:
            continue
        probe = await find_probe(ctx, [ident])
        if probe is None:
            continue
        answer = await probe.send(ctx, expired)
        if probe.accepts(answer):
            when = _expired_since(expired, now)
            _report(
                ctx, probe,
                f"{probe.op.key} accepted {ident.name}'s token that expired {when} ({how}): "
                "a leaked token works forever", answer, None, note=f"a token expired {when}",
            )  # fmt: skip
        return


def _expired_since(token: str, now: int) -> str:
    jwt = parse(token)
    exp = jwt.claims.get("exp") if jwt is not None else None
    if not isinstance(exp, int | float) or isinstance(exp, bool):
        return "earlier"
    return f"{max(0, now - int(exp)) // 60} minutes ago"


def _expired_token(configured: str | None, token: str | None, now: int) -> tuple[str | None, str]:
    """An expired token of the identity and where it came from, when there is one.

    A configured token is taken at its word unless its own exp says it is still valid.
    """
    if configured:
        given = parse(configured)
        exp = given.claims.get("exp") if given is not None else None
        if not (isinstance(exp, int | float) and exp > now):
            return configured.strip(), "the expired token from the config"
    current = parse(token) if token else None
    secret = cracked(current) if current is not None else None
    if current is None or secret is None:
        return None, ""
    alg = current.alg if current.alg in HS_ALGORITHMS else "HS256"
    forged = sign_hs(expired_claims(current.claims, now), secret, alg, current.header)
    return forged, "re-signed with the cracked secret"
