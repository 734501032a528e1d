"""``ip-filter``: IP allow and deny lists per API and per operation."""

from __future__ import annotations

from collections.abc import Mapping

from apiward.errors import ConfigError
from apiward.gateway.chain import ApiSetup, Exchange, Policy, register
from apiward.gateway.ipfilter import IpFilter, merge
from apiward.gateway.policy import Refusal

__all__ = ["IpFiltering"]


@register
class IpFiltering(Policy):
    """Refuse (403) clients whose IP the lists exclude; runs first, before any other work.

    The client IP is the peer's, or the one ``X-Forwarded-For``/``Forwarded`` names when
    the peer is a configured trusted proxy: a client cannot claim an address. Deny wins
    over allow; an operation's deny list adds to the API's, its allow list replaces it.
    An address that does not parse is refused (fail closed).
    """

    name = "ip-filter"
    order = 10

    def __init__(
        self, setup: ApiSetup, api: IpFilter, operations: Mapping[str, IpFilter] | None = None
    ) -> None:
        self._api = api
        self._ops: dict[str, IpFilter] = {}
        for selector, own in (operations or {}).items():
            chosen = [
                op.key for op in setup.doc.operations if selector in (op.key, op.operation_id)
            ]
            if not chosen:
                raise ConfigError(f"IP list names no operation: {selector!r}", key="ip.operations")
            for key in chosen:
                self._ops[key] = merge(api, own)

    @classmethod
    def from_setup(cls, setup: ApiSetup) -> IpFiltering | None:
        section = setup.section
        if section is None:
            return None
        ip = section.ip
        ops = {sel: IpFilter(o.allow, o.deny) for sel, o in ip.operations.items()}
        api = IpFilter(ip.allow, ip.deny)
        if not api.active and not any(f.active for f in ops.values()):
            return None
        return cls(setup, api, ops)

    async def on_request(self, ex: Exchange) -> Refusal | None:
        key = ex.operation_key
        chosen = self._ops.get(key, self._api) if key is not None else self._api
        if chosen.active and not chosen.decide(ex.client):
            return Refusal(403, self.name, "ip_not_allowed")
        return None
