"""IP allow/deny lists, decided per client address in a dict lookup.

Build one :class:`IpFilter` per API (and per operation that lists its own) at load;
per request, with the address :func:`~apiward.gateway.headers.client_ip` returned::

    api = IpFilter(allow=["10.0.0.0/8", "2001:db8::/32"], deny=["10.6.6.0/24"])
    op = merge(api, IpFilter(allow=[], deny=["10.0.0.99"]))   # one operation's lists
    if op.active and not op.decide(ip):
        ...  # answer 403

Rules: a denied address is refused even when an allow entry covers it; an empty allow
list admits every address not denied; ``::ffff:a.b.c.d`` is matched as ``a.b.c.d``; an
address that does not parse (an empty string, a Unix socket peer, ``010.0.0.1``) is
refused, since nothing can be said about it. An inactive filter (both lists empty) is
one the gateway skips: it refuses nothing it could not parse either.

:func:`merge` lets an operation refine its API's lists: deny lists add up (an
operation can never unblock what the API blocks), and a non-empty operation allow list
*replaces* the API's (a webhook operation can admit only its provider's range, even
outside the API's list). To open one operation to everyone not denied while the API
has an allow list, list ``0.0.0.0/0`` and ``::/0`` for it.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Sequence

from apiward.errors import ConfigError

__all__ = ["IpFilter", "merge"]

_Network = ipaddress.IPv4Network | ipaddress.IPv6Network
_MAPPED = ipaddress.IPv6Network("::ffff:0:0/96")
DEFAULT_CACHE_SIZE = 8192


class IpFilter:
    """Allow/deny CIDR lists (IPv4 and IPv6; a bare address is a /32 or /128)."""

    __slots__ = ("_allow4", "_allow6", "_cache", "_cache_size", "_deny4", "_deny6", "allow", "deny")

    def __init__(
        self,
        allow: Sequence[str] = (),
        deny: Sequence[str] = (),
        *,
        cache_size: int = DEFAULT_CACHE_SIZE,
    ) -> None:
        allow_nets = _parse_all(allow, "allow")
        deny_nets = _parse_all(deny, "deny")
        # normalised spellings: what merge() combines and what a repr or the admin API shows
        self.allow: tuple[str, ...] = tuple(str(n) for n in allow_nets)
        self.deny: tuple[str, ...] = tuple(str(n) for n in deny_nets)
        self._allow4 = _masks(n for n in allow_nets if n.version == 4)
        self._allow6 = _masks(n for n in allow_nets if n.version == 6)
        self._deny4 = _masks(n for n in deny_nets if n.version == 4)
        self._deny6 = _masks(n for n in deny_nets if n.version == 6)
        self._cache: dict[str, bool] = {}
        self._cache_size = max(1, cache_size)

    @property
    def active(self) -> bool:
        """Whether there is anything to enforce (the gateway skips an inactive filter)."""
        return bool(self.allow or self.deny)

    def decide(self, ip: str) -> bool:
        """``True`` to admit ``ip``, ``False`` to refuse it (denied, not allowed, unparseable)."""
        cached = self._cache.get(ip)
        if cached is not None:
            return cached
        decision = self._decide(ip)
        cache = self._cache
        if len(cache) >= self._cache_size:
            # drop the oldest entry: an attacker rotating addresses costs recomputation, not memory
            del cache[next(iter(cache))]
        cache[ip] = decision
        return decision

    def _decide(self, ip: str) -> bool:
        try:
            addr = ipaddress.ip_address(ip)
        except ValueError:
            return False
        if isinstance(addr, ipaddress.IPv6Address) and addr.ipv4_mapped is not None:
            addr = addr.ipv4_mapped
        value = int(addr)
        if addr.version == 4:
            deny, allow = self._deny4, self._allow4
        else:
            deny, allow = self._deny6, self._allow6
        if any(value & mask == net for net, mask in deny):
            return False
        if not self.allow:
            return True
        return any(value & mask == net for net, mask in allow)

    def __repr__(self) -> str:
        return f"IpFilter(allow={list(self.allow)!r}, deny={list(self.deny)!r})"

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, IpFilter):
            return NotImplemented
        return (self.allow, self.deny) == (other.allow, other.deny)

    def __hash__(self) -> int:
        return hash((self.allow, self.deny))


def merge(api: IpFilter, operation: IpFilter | None) -> IpFilter:
    """The filter for one operation: deny lists add up, a non-empty operation allow replaces.

    Returns ``api`` itself when the operation lists nothing, so operations without their
    own lists share the API's filter (and its decision cache).
    """
    if operation is None or not operation.active:
        return api
    allow = operation.allow or api.allow
    deny = tuple(dict.fromkeys(api.deny + operation.deny))
    return IpFilter(allow, deny, cache_size=api._cache_size)


def _parse_all(entries: Sequence[str], key: str) -> list[_Network]:
    if isinstance(entries, str):
        raise ConfigError("expected a list of addresses or CIDR ranges, not one string", key=key)
    nets: list[_Network] = []
    for entry in entries:
        net = _parse(entry, key)
        if net not in nets:
            nets.append(net)
    return nets


def _parse(entry: object, key: str) -> _Network:
    if not isinstance(entry, str) or not entry.strip():
        raise ConfigError(f"{entry!r} is not an IP address or CIDR range", key=key)
    text = entry.strip()
    try:
        net: _Network = ipaddress.ip_network(text, strict=True)
    except ValueError as exc:
        hint = ""
        if "host bits set" in str(exc):
            # 10.0.0.1/8 is a typo for 10.0.0.1/32 or for 10.0.0.0/8: make the operator say which
            hint = f" (host bits set; did you mean {ipaddress.ip_network(text, strict=False)}?)"
        raise ConfigError(f"{entry!r} is not an IP address or CIDR range{hint}", key=key) from None
    if isinstance(net, ipaddress.IPv6Network) and net.prefixlen >= 96 and net.subnet_of(_MAPPED):
        # an IPv4-mapped entry matches the IPv4 form, since that is how clients are matched
        mapped = net.network_address.ipv4_mapped
        assert mapped is not None
        return ipaddress.IPv4Network(f"{mapped}/{net.prefixlen - 96}")
    return net


def _masks(nets: Iterable[_Network]) -> tuple[tuple[int, int], ...]:
    # (network, netmask) as ints: one AND and one compare per entry, no object per request
    return tuple((int(n.network_address), int(n.netmask)) for n in nets)
