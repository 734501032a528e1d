"""What the JWT checks share: a probe request, sending a forged token, proving escalation.

No check lives here. A *probe* is a GET the crawl answered 2xx for an identity
that carries a JWT, that refuses anonymous callers and a junk token: so when a
forged token gets the identity's view back, the forgery is what let it in.
Escalation is proved two ways: a forged token naming an admin identity gets that
admin's own view of the probe, or one with privileged claims gets a 2xx from an
admin operation that refuses the identity's real token.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from apiward.core import Operation
from apiward.scan.checks.auth_common import (
    anonymous_answer,
    distinct_pairs,
    same_view,
    shows,
    with_token,
)
from apiward.scan.context import ScanContext
from apiward.scan.http import Exchange
from apiward.scan.identity import Identity
from apiward.scan.jwt_forge import Jwt, crack_hs, escalate_claims, parse

__all__ = [
    "Escalation",
    "Forge",
    "Probe",
    "cracked",
    "escalate",
    "find_probe",
    "junk_signed",
    "masked",
]

_CANDIDATE_OPS = 3
_ADMIN_OPS = 2
_JUNK = "apiward.invalid.token"
_TIMES = ("exp", "iat", "nbf", "jti")

Forge = Callable[[dict[str, Any]], str]


@dataclass(slots=True)
class Probe:
    """A request that needs ``ident`` 's token, and the identity's own answer to it."""

    ident: Identity
    jwt: Jwt
    op: Operation
    view: Exchange
    query: dict[str, Any] = field(default_factory=dict)
    headers: dict[str, str] = field(default_factory=dict)

    async def send(self, ctx: ScanContext, token: str, path: str | None = None) -> Exchange:
        """The probe (or ``path``) with ``token`` in place of the identity's own, no re-login."""
        creds = with_token(self.ident, token)
        assert creds is not None
        headers, cookies, query = creds
        return await ctx.send(
            "GET", path or self.view.path, self.ident, operation=self.op,
            params={**self.query, **query}, headers={**self.headers, **headers}, cookies=cookies,
            credentials=False,
        )  # fmt: skip

    def accepts(self, answer: Exchange) -> bool:
        return same_view(answer, self.view)


def _token_of(ident: Identity) -> Jwt | None:
    return parse(ident.token) if ident.token and with_token(ident, "x") else None


def _candidates(ctx: ScanContext, ident: Identity) -> list[tuple[Operation, Exchange]]:
    found = []
    for op in ctx.operations("GET"):
        seen = ctx.seen.get((op.key, ident.name))
        if seen is not None and seen.ok and not ctx.is_login_operation(op):
            found.append((op, seen))
    # the caller's own things (/users/me) first: short paths without parameters
    found.sort(key=lambda pair: ("{" in pair[0].path, len(pair[0].path)))
    return found[:_CANDIDATE_OPS]


async def find_probe(
    ctx: ScanContext,
    idents: list[Identity] | None = None,
    accept: Callable[[Jwt], bool] = lambda jwt: True,
) -> Probe | None:
    """The first probe of the first identity (users, then admins) whose JWT ``accept`` s."""
    for ident in idents if idents is not None else [*ctx.users(), *ctx.admins()]:
        jwt = _token_of(ident)
        if jwt is None or not accept(jwt):
            continue
        for op, view in _candidates(ctx, ident):
            if (await anonymous_answer(ctx, op, view)).ok:
                continue  # open to anyone: acceptance there proves nothing
            query, headers = ctx.parameters(op)
            probe = Probe(ident, jwt, op, view, query, headers)
            if not probe.accepts(await probe.send(ctx, _JUNK)):
                return probe
    return None


@lru_cache(maxsize=64)
def _crack(token: str) -> bytes | None:
    jwt = parse(token)
    return crack_hs(jwt) if jwt is not None else None


def cracked(jwt: Jwt) -> bytes | None:
    """The HMAC secret of ``jwt`` when it is in the bundled wordlist (cached per token)."""
    return _crack(jwt.raw)


def masked(secret: bytes) -> str:
    """The secret as a report may show it: first character and length only."""
    if not secret:
        return "the empty string"
    text = secret.decode("utf-8", "replace")
    return f"{text[:1]}{'*' * (len(text) - 1)} ({len(text)} characters)"


def junk_signed(jwt: Jwt, claims: dict[str, Any]) -> str:
    """``claims`` under ``jwt`` 's header and signature: valid only where nothing is verified."""
    signature = jwt.raw.rsplit(".", 1)[1]
    return f"{_b64json(jwt.header)}.{_b64json(claims)}.{signature}"


def _b64json(value: dict[str, Any]) -> str:
    raw = json.dumps(value, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


@dataclass(slots=True)
class Escalation:
    """What a forged token got beyond the identity's own rights."""

    how: str
    exchanges: list[Exchange]


async def escalate(ctx: ScanContext, probe: Probe, forge: Forge) -> Escalation | None:
    """Tries a forged token naming an admin, then privileged claims on an admin operation."""
    found = await _impersonate(ctx, probe, forge)
    if found is None and not probe.ident.is_admin:
        found = await _admin_operation(ctx, probe, forge)
    return found


async def _impersonate(ctx: ScanContext, probe: Probe, forge: Forge) -> Escalation | None:
    if "{" in probe.op.path:
        return None  # the admin's view would be of other objects
    for admin in ctx.admins():
        jwt = _token_of(admin)
        theirs = ctx.seen.get((probe.op.key, admin.name))
        if admin is probe.ident or jwt is None or theirs is None or not theirs.ok:
            continue
        if not distinct_pairs(theirs, probe.view):
            continue  # the probe answers the same to both: it cannot tell who is calling
        # the admin's claims (who, role) over the identity's own, times kept fresh
        claims = {**probe.jwt.claims, **{k: v for k, v in jwt.claims.items() if k not in _TIMES}}
        answer = await probe.send(ctx, forge(claims))
        if shows(answer, theirs, probe.view):
            return Escalation(
                f"a forged token naming {admin.name} got {admin.name}'s own answer from "
                f"{probe.op.key}",
                [answer, theirs],
            )
    return None


async def _admin_operation(ctx: ScanContext, probe: Probe, forge: Forge) -> Escalation | None:
    token = forge(escalate_claims(probe.jwt.claims))
    tried = 0
    for op in ctx.operations("GET"):
        if tried >= _ADMIN_OPS or not ctx.is_admin_operation(op) or "{" in op.path:
            continue
        tried += 1
        query, headers = ctx.parameters(op)
        target = Probe(probe.ident, probe.jwt, op, probe.view, query, headers)
        own = await target.send(ctx, probe.jwt.raw, op.path)
        if own.ok or own.status not in (401, 403, 404):
            continue  # open to the identity already, or no clear refusal
        answer = await target.send(ctx, token, op.path)
        admin_view = next(
            (ctx.seen[(op.key, a.name)] for a in ctx.admins() if (op.key, a.name) in ctx.seen),
            None,
        )
        if answer.ok and (admin_view is None or same_view(answer, admin_view)):
            return Escalation(
                f"a forged token with admin claims was let into {op.key}, which refuses "
                f"{probe.ident.name}'s own token ({own.status})",
                [answer, own],
            )
    return None
