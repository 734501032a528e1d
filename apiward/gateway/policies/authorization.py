"""``authorization``: roles and claims an operation requires, beyond the spec's scopes."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from apiward.errors import ConfigError
from apiward.gateway.chain import ApiSetup, Exchange, Policy, register
from apiward.gateway.policy import Refusal

__all__ = ["AccessRule", "Authorization"]


@dataclass(frozen=True, slots=True)
class AccessRule:
    """Callers of the ``operations`` must hold one of ``roles`` and every ``claims`` value.

    ``operations``: operationIds, ``"METHOD /path"`` keys or ``"*"``. A claim value may be
    a list: the caller's claim must equal one of its items (or, when the caller's claim is
    a list, contain one).
    """

    operations: tuple[str, ...]
    roles: frozenset[str] = frozenset()
    claims: Mapping[str, tuple[str, ...]] = field(default_factory=dict)


@register
class Authorization(Policy):
    """Least privilege per operation: roles and claims mapped to operations (403 otherwise).

    Runs after authentication; a request that reaches an operation some rule covers
    without a principal is refused (anonymous callers hold no role). Every rule that
    covers the operation must be satisfied.
    """

    name = "authorization"
    order = 35

    def __init__(self, setup: ApiSetup, rules: Iterable[AccessRule]) -> None:
        ops = setup.doc.operations
        self._table: dict[str, list[AccessRule]] = {}
        for rule in rules:
            for selector in rule.operations:
                chosen = [o for o in ops if selector in ("*", o.key, o.operation_id)]
                if not chosen:
                    raise ConfigError(
                        f"authorization rule names no operation: {selector!r}",
                        key="authorization",
                    )
                for op in chosen:
                    self._table.setdefault(op.key, []).append(rule)

    @classmethod
    def from_setup(cls, setup: ApiSetup) -> Authorization | None:
        section = setup.section
        if section is None or not section.authorization:
            return None
        rules = [
            AccessRule(
                tuple(r.operations),
                frozenset(r.roles),
                {k: tuple(v) if isinstance(v, list) else (v,) for k, v in r.claims.items()},
            )
            for r in section.authorization
        ]
        return cls(setup, rules)

    async def on_request(self, ex: Exchange) -> Refusal | None:
        key = ex.operation_key
        rules = self._table.get(key) if key is not None else None
        if not rules:
            return None
        p = ex.principal
        if not p.subject:
            return Refusal(401, self.name, "authentication_required")
        for rule in rules:
            if rule.roles and rule.roles.isdisjoint(p.grants):
                return Refusal(403, self.name, "role_required")
            for claim, wanted in rule.claims.items():
                have = p.claims.get(claim)
                values = have if isinstance(have, list) else [have]
                if not any(str(v) in wanted for v in values if v is not None):
                    return Refusal(403, self.name, "claim_required")
        return None
