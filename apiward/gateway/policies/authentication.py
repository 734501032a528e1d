"""``authentication``: the operation's security requirements, deny by default."""

from __future__ import annotations

from collections.abc import Mapping

from apiward.gateway.auth_common import (
    ANONYMOUS,
    Authenticator,
    AuthRequest,
    Denial,
    evaluate_requirements,
)
from apiward.gateway.auth_keys import ApiKeyAuth
from apiward.gateway.chain import ApiSetup, Exchange, Policy, register
from apiward.gateway.policy import Refusal, compile_policies
from apiward.gateway.revocations import STALE, Revocations

__all__ = ["Authentication"]


@register
class Authentication(Policy):
    """Check credentials per the spec's ``security`` (OR of ANDs, scopes included).

    An operation is open only when the spec says ``security: []`` on purpose; one with no
    security declared anywhere is refused unless ``allow_undeclared_security``. 401 names
    a challenge, 403 means authenticated but short of a scope, 503 that a key or
    introspection server could not be asked (fail closed). A credential on the shared
    revocation list (an API key, a token's ``jti``, a subject) is refused with 401, and
    with 503 while that list cannot be read (``revocations.on-error: closed``).
    """

    name = "authentication"
    order = 30

    def __init__(
        self,
        setup: ApiSetup,
        authenticators: Mapping[str, Authenticator],
        *,
        allow_undeclared_security: bool = False,
        revocations: Revocations | None = None,
    ) -> None:
        table = compile_policies(setup.doc, allow_undeclared_security=allow_undeclared_security)
        self._open = {key: p.allow_unsecured for key, p in table.items()}
        self._authenticators = dict(authenticators)
        self._revocations = revocations
        self._key_schemes = frozenset(
            name for name, a in authenticators.items() if isinstance(a, ApiKeyAuth)
        )

    @classmethod
    def from_setup(cls, setup: ApiSetup) -> Authentication | None:
        section = setup.section
        allow = section.auth.allow_undeclared_security if section is not None else False
        return cls(
            setup,
            setup.services.get("authenticators", {}),
            allow_undeclared_security=allow,
            revocations=setup.services.get("revocations"),
        )

    async def on_request(self, ex: Exchange) -> Refusal | None:
        match = ex.match
        if match is None:  # pass-through
            return None
        op = match.operation
        outcome = await evaluate_requirements(
            op.effective_security,
            self._authenticators,
            AuthRequest.from_scope(ex.scope),
            allow_unsecured=self._open[op.key],
        )
        if isinstance(outcome, Denial):
            return refusal(outcome)
        if self._revocations is not None and outcome is not ANONYMOUS:
            revoked = self._revocations.refusal(outcome, self._key_schemes)
            if revoked == STALE:
                return refusal(Denial(503, revoked, "the revocation list cannot be read"))
            if revoked is not None:
                return refusal(Denial(401, revoked, "the credential has been revoked"))
        ex.principal = outcome
        ex.identity = outcome.subject or None
        return None


def refusal(denial: Denial) -> Refusal:
    status = denial.status if denial.status in (401, 403, 503) else 401
    extra: tuple[tuple[bytes, bytes], ...] = ()
    if status == 401:
        # RFC 9110 §11.6.1: a 401 names a challenge; no realm detail that helps a prober
        extra = ((b"www-authenticate", b'Bearer realm="api"'),)
    return Refusal(status, Authentication.name, denial.reason, extra)
