"""``rate-limit`` and ``client-rate-limit``: limits and quotas per subject and operation."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Literal

from apiward.errors import ConfigError
from apiward.gateway.chain import ApiSetup, Exchange, Headers, Policy, register
from apiward.gateway.policy import Refusal
from apiward.gateway.ratelimit import (
    Limit,
    Limiter,
    MemoryLimiter,
    Verdict,
    key_part,
    limit_key,
)

__all__ = ["ClientRateLimit", "RateLimit", "RateRule"]

By = Literal["subject", "user", "ip", "app", "key", "global"]
_APP_CLAIMS = ("client_id", "azp", "cid")
_MAX_PARTS = 10_000  # escaped subjects kept, of at most _SHORT characters each
_SHORT = 128


@dataclass(frozen=True, slots=True)
class RateRule:
    """``limit`` for the operations ``selector`` names, counted per ``by``.

    ``selector``: ``"*"``, an operationId or ``"GET /path/{id}"``. ``by``: ``subject`` (the
    authenticated user, else the client IP), ``user``, ``ip``, ``app`` (the token's
    ``client_id``/``azp``), ``key`` (the API key id) or ``global`` (everyone together).
    ``per_operation=False`` makes one budget across every operation selected (a quota).
    """

    selector: str
    limit: Limit
    by: By = "subject"
    per_operation: bool = True
    name: str = ""


class _Limits(Policy):
    """Shared by both orders: every rule that selects the operation is enforced."""

    def __init__(self, setup: ApiSetup, rules: Iterable[RateRule], limiter: Limiter) -> None:
        doc = setup.doc
        known = {"*"} | {op.key for op in doc.operations}
        known |= {op.operation_id for op in doc.operations if op.operation_id}
        self._api = setup.name or "api"
        self._limiter = limiter
        # the in-memory limiter answers without waiting: skip its coroutine (a subclass or
        # an instance may do more in hit(), so only the class's own)
        self._hit_now: Callable[[str, Limit], Verdict] | None = None
        if type(limiter) is MemoryLimiter and "hit" not in vars(limiter):
            self._hit_now = limiter.hit_sync
        self._parts: dict[str, str] = {}  # subject -> key_part(subject), short ones, bounded
        self._table: dict[str, list[tuple[str, RateRule]]] = {}  # (key prefix, rule)
        self._unmatched: list[tuple[str, RateRule]] = []
        for index, rule in enumerate(rules):
            if rule.selector not in known:
                raise ConfigError(
                    f"rate limit selector {rule.selector!r} names no operation of {self._api}",
                    key="limits",
                )
            rule_id = rule.name or f"r{index}"
            if rule.selector == "*":
                # requests no operation matched (unknown paths, pass-through) count too, in
                # one bucket per rule: a flood of 404s is still a flood
                prefix = limit_key("gw", self._api, rule_id, "unmatched")
                self._unmatched.append((prefix, rule))
            for op in doc.operations:
                if rule.selector in ("*", op.key, op.operation_id):
                    scope = op.key if rule.per_operation else "*"
                    prefix = limit_key("gw", self._api, rule_id, scope)
                    self._table.setdefault(op.key, []).append((prefix, rule))

    async def on_request(self, ex: Exchange) -> Refusal | None:
        key = ex.operation_key
        entries = self._table.get(key) if key is not None else self._unmatched
        if not entries:
            return None
        tightest: Verdict | None = None
        parts = self._parts
        for prefix, rule in entries:
            who = _subject(ex, rule.by)
            if who is None:  # e.g. by: app on a request without a client id
                continue
            part = parts.get(who)
            if part is None:
                part = key_part(who)
                if len(who) <= _SHORT:
                    if len(parts) >= _MAX_PARTS:
                        parts.clear()
                    parts[who] = part
            try:
                if self._hit_now is not None:
                    verdict = self._hit_now(prefix + ":" + part, rule.limit)
                else:
                    verdict = await self._limiter.hit(prefix + ":" + part, rule.limit)
            except Exception:  # a limiter that cannot answer must not admit
                return Refusal(503, self.name, "limiter_unavailable")
            if not verdict.allowed:
                status = 503 if verdict.degraded else 429
                reason = "limiter_unavailable" if verdict.degraded else "rate_limited"
                return Refusal(status, self.name, reason, tuple(verdict.asgi_headers()))
            if tightest is None or verdict.remaining < tightest.remaining:
                tightest = verdict
        if tightest is not None:
            _merge_limit_headers(ex.response_headers, tightest.asgi_headers())
        return None


def _merge_limit_headers(out: Headers, new: list[tuple[bytes, bytes]]) -> None:
    if not out:
        out.extend(new)
        return
    # the pre-auth and post-auth limiters both report: the tighter remaining wins
    for i, (name, value) in enumerate(out):
        if name == b"ratelimit-remaining":
            theirs = dict(new).get(b"ratelimit-remaining")
            if theirs is not None and int(theirs) >= int(value):
                return
            del out[i : i + 1]
            break
    out[:] = [(n, v) for n, v in out if not n.startswith(b"ratelimit-")] + new


def _subject(ex: Exchange, by: By) -> str | None:
    p = ex.principal
    if by == "subject":
        return "u:" + p.subject if p.subject else "ip:" + ex.client
    if by == "ip":
        return ex.client
    if by == "user":
        return p.subject or None
    if by == "global":
        return "*"
    if by == "key":
        key_id = p.claims.get("key_id") if p.scheme != "anonymous" else None
        for part in p.parts:
            key_id = key_id or part.claims.get("key_id")
        return str(key_id) if key_id else None
    for claim in _APP_CLAIMS:  # by == "app"
        value = p.claims.get(claim)
        if isinstance(value, str) and value:
            return value
    return None


@register
class RateLimit(_Limits):
    """Rate limits and quotas per user, API key, client app or operation (after authentication).

    Every rule that selects the operation is enforced; the tightest one's ``RateLimit-*``
    headers go out. 429 with ``Retry-After`` when over; 503 when the limiter (Redis)
    cannot answer and the fail policy is closed.
    """

    name = "rate-limit"
    order = 40

    @classmethod
    def from_setup(cls, setup: ApiSetup) -> RateLimit | None:
        rules = [r for r in _rules(setup) if r.by != "ip"]
        return cls(setup, rules, _limiter(setup)) if rules else None


@register
class ClientRateLimit(_Limits):
    """Rate limits per client IP, before authentication (floods of bad tokens cost nothing).

    The client IP comes from ``X-Forwarded-For``/``Forwarded`` only through the
    configured trusted proxies.
    """

    name = "client-rate-limit"
    order = 25

    @classmethod
    def from_setup(cls, setup: ApiSetup) -> ClientRateLimit | None:
        rules = [r for r in _rules(setup) if r.by == "ip"]
        return cls(setup, rules, _limiter(setup)) if rules else None


def split_rules(
    setup: ApiSetup, rules: Sequence[RateRule], limiter: Limiter | None = None
) -> list[Policy]:
    """Both policies for ``rules`` (per-IP ones before authentication, the rest after)."""
    limiter = limiter if limiter is not None else MemoryLimiter()
    out: list[Policy] = []
    pre = [r for r in rules if r.by == "ip"]
    post = [r for r in rules if r.by != "ip"]
    if pre:
        out.append(ClientRateLimit(setup, pre, limiter))
    if post:
        out.append(RateLimit(setup, post, limiter))
    return out


def _rules(setup: ApiSetup) -> list[RateRule]:
    rules = setup.services.get("rate_rules")
    return list(rules) if rules else []


def _limiter(setup: ApiSetup) -> Limiter:
    limiter = setup.services.get("limiter")
    return limiter if limiter is not None else MemoryLimiter()
