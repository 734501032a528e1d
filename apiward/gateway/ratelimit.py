"""Rate limits and quotas: GCRA or an exact sliding window, in memory or shared through Redis.

The gateway composes one key per subject it limits (API key, user, client app, IP, operation)
and asks a :class:`Limiter` once per request and per limit that applies::

    key = limit_key("user-op", principal.id, operation.operation_id)
    verdict = await limiter.hit(key, Limit(100, 60))
    if not verdict.allowed:
        # 429, or 503 when verdict.degraded (the backend could not be asked)
        respond(429, headers=verdict.headers())
    else:
        forward(...)  # and add verdict.headers() to the response

Two algorithms, both exact (never more than the limit, never fewer):

- ``"gcra"`` (default): the generic cell rate algorithm. ``requests`` per ``per_seconds`` on
  average, at most ``burst`` (default ``requests``) at once, refilled one every
  ``per_seconds / requests``. One number of state per key: O(1) time and memory.
- ``"sliding-window"``: at most ``requests`` in *any* window of ``per_seconds`` (a sliding
  log). O(1) amortised time per hit, but memory grows with the admitted hits still in the
  window (up to ``requests`` per key): prefer GCRA for large limits.

Backends: :class:`MemoryLimiter` here (one process), and
:class:`apiward.gateway.ratelimit_redis.RedisLimiter` when several gateways share limits.
A backend that cannot be asked answers by :class:`FailPolicy` (closed, i.e. refuse, by default).
"""

from __future__ import annotations

import hashlib
import math
import threading
import time
from collections import OrderedDict, deque
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Literal, Protocol

from apiward.errors import ConfigError

__all__ = [
    "OVER_LIMIT",
    "TOO_COSTLY",
    "UNAVAILABLE",
    "Algorithm",
    "FailPolicy",
    "Limit",
    "Limiter",
    "MemoryLimiter",
    "Verdict",
    "key_part",
    "limit_key",
]

Algorithm = Literal["sliding-window", "gcra"]
ALGORITHMS: tuple[Algorithm, ...] = ("gcra", "sliding-window")

OVER_LIMIT = "rate limit exceeded"
TOO_COSTLY = "request cost exceeds the limit's capacity"
UNAVAILABLE = "rate-limit backend unavailable"


def _positive_int(value: object, what: str) -> int:
    # bool is an int subclass: `Limit(True, 1)` is a config mistake, not "1 request"
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        raise ConfigError(f"{what} must be a whole number >= 1, got {value!r}")
    return value


@dataclass(frozen=True, slots=True)
class Limit:
    """``requests`` per ``per_seconds``, counted with ``algorithm``.

    ``burst`` (GCRA only) caps how many may come at once; it defaults to ``requests``.
    Invalid values raise :class:`~apiward.errors.ConfigError` naming the field.
    """

    requests: int
    per_seconds: float
    algorithm: Algorithm = "gcra"
    burst: int | None = None
    # derived once so that a hit does no float-to-int work; integers keep the arithmetic exact
    interval_ns: int = field(init=False, repr=False, compare=False)
    window_ns: int = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        _positive_int(self.requests, "limit requests")
        per = self.per_seconds
        if isinstance(per, bool) or not isinstance(per, int | float) or not math.isfinite(per):
            raise ConfigError(f"limit per_seconds must be a finite number, got {per!r}")
        if per <= 0:
            raise ConfigError(f"limit per_seconds must be > 0, got {per!r}")
        if self.algorithm not in ALGORITHMS:
            raise ConfigError(
                f"limit algorithm must be one of {', '.join(ALGORITHMS)}, got {self.algorithm!r}"
            )
        if self.burst is not None:
            _positive_int(self.burst, "limit burst")
            if self.algorithm != "gcra":
                raise ConfigError("limit burst applies to the gcra algorithm only")
        window_ns = round(per * 1e9)
        # rounding the interval up never admits more than the configured rate
        interval_ns = max(1, math.ceil(round(per * 1e9 / self.requests, 3)))
        object.__setattr__(self, "window_ns", window_ns)
        object.__setattr__(self, "interval_ns", interval_ns)

    @property
    def capacity(self) -> int:
        """How many units may be admitted at once: the ``RateLimit-Limit`` header."""
        return self.burst if self.burst is not None else self.requests


@dataclass(frozen=True, slots=True)
class Verdict:
    """The answer to one hit.

    ``remaining`` is how many more unit-cost hits would be admitted now; ``reset_after`` the
    seconds until the full capacity is back; ``retry_after`` the seconds until this hit
    would be admitted (``None`` when admitted, or when it can never be). ``degraded`` is
    true when the backend could not be asked and :class:`FailPolicy` decided.
    """

    allowed: bool
    limit: int
    remaining: int
    reset_after: float
    retry_after: float | None
    reason: str | None = None
    degraded: bool = False

    def headers(self) -> list[tuple[str, str]]:
        """``RateLimit-Limit``/``-Remaining``/``-Reset`` (IETF draft), ``Retry-After`` if refused.

        A degraded verdict states no ``RateLimit-*`` numbers: nobody knows them.
        """
        out: list[tuple[str, str]] = []
        if not self.degraded:
            out.append(("RateLimit-Limit", str(self.limit)))
            out.append(("RateLimit-Remaining", str(max(0, self.remaining))))
            out.append(("RateLimit-Reset", str(max(0, math.ceil(self.reset_after)))))
        if not self.allowed and self.retry_after is not None:
            # 0 would invite an immediate retry that is still refused
            out.append(("Retry-After", str(max(1, math.ceil(self.retry_after)))))
        return out

    def asgi_headers(self) -> list[tuple[bytes, bytes]]:
        """:meth:`headers` as ASGI wants them: lower-case names, bytes."""
        # written out rather than converted from headers(): this runs once per request
        out: list[tuple[bytes, bytes]] = []
        if not self.degraded:
            out.append((b"ratelimit-limit", str(self.limit).encode()))
            out.append((b"ratelimit-remaining", str(max(0, self.remaining)).encode()))
            out.append((b"ratelimit-reset", str(max(0, math.ceil(self.reset_after))).encode()))
        if not self.allowed and self.retry_after is not None:
            out.append((b"retry-after", str(max(1, math.ceil(self.retry_after))).encode()))
        return out


# A frozen dataclass's __init__ costs twice plain slot stores (as for core.router's Match):
# the in-memory limiter, which answers every request, fills the slots directly.
_new_verdict = Verdict.__new__
_set_allowed = vars(Verdict)["allowed"].__set__
_set_limit = vars(Verdict)["limit"].__set__
_set_remaining = vars(Verdict)["remaining"].__set__
_set_reset_after = vars(Verdict)["reset_after"].__set__
_set_retry_after = vars(Verdict)["retry_after"].__set__
_set_reason = vars(Verdict)["reason"].__set__
_set_degraded = vars(Verdict)["degraded"].__set__


def _verdict(
    allowed: bool,
    limit: int,
    remaining: int,
    reset_after: float,
    retry_after: float | None,
    reason: str | None = None,
) -> Verdict:
    """``Verdict(allowed, limit, remaining, reset_after, retry_after, reason)``, faster."""
    verdict = _new_verdict(Verdict)
    _set_allowed(verdict, allowed)
    _set_limit(verdict, limit)
    _set_remaining(verdict, remaining)
    _set_reset_after(verdict, reset_after)
    _set_retry_after(verdict, retry_after)
    _set_reason(verdict, reason)
    _set_degraded(verdict, False)
    return verdict


class Limiter(Protocol):
    """What the gateway needs from a rate-limit backend."""

    async def hit(self, key: str, limit: Limit, cost: int = 1) -> Verdict:
        """Count ``cost`` units against ``key`` under ``limit`` if they fit; say if they did."""
        ...


class FailPolicy(StrEnum):
    """What a limiter answers when its backend is down or too slow."""

    CLOSED = "closed"  # refuse: the default, as for every security decision
    OPEN = "open"  # admit, for operators who value availability over the limit


def unavailable(limit: Limit, policy: FailPolicy, detail: str) -> Verdict:
    """The verdict when the backend could not be asked (``detail`` says why)."""
    allowed = policy is FailPolicy.OPEN
    suffix = "; admitted by fail-open policy" if allowed else ""
    return Verdict(
        allowed=allowed,
        limit=limit.capacity,
        remaining=0,
        reset_after=0.0,
        retry_after=None if allowed else 1.0,
        reason=f"{UNAVAILABLE}: {detail}{suffix}",
        degraded=True,
    )


def check_cost(limit: Limit, cost: int) -> Verdict | None:
    """Validate ``cost``; return the refusal when it can never fit ``limit``, else ``None``."""
    if type(cost) is not int:
        _positive_int(cost, "rate-limit cost")  # raises with the usual message
    if cost < 1:
        raise ConfigError(f"rate-limit cost must be a whole number >= 1, got {cost!r}")
    if cost > limit.capacity:
        return Verdict(False, limit.capacity, 0, 0.0, None, TOO_COSTLY)
    return None


_ESCAPES = str.maketrans({"%": "%25", ":": "%3A", "{": "%7B", "}": "%7D", "#": "%23"})
_MAX_PART = 128
_SCOPE_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-")


def limit_key(scope: str, *parts: str) -> str:
    """One key per subject: ``scope:part:part``, unambiguous whatever the parts contain.

    ``:`` (the separator), ``%`` (the escape), ``{``/``}`` (Redis Cluster hash tags) and ``#``
    are percent-escaped, so distinct part lists never give one key. Parts longer than
    128 characters become ``#`` and a SHA-256 prefix, which bounds the memory a client
    can make a key take. ``scope`` is a plain name (letters, digits, ``_.-``).
    """
    if not scope or not _SCOPE_CHARS.issuperset(scope):
        raise ConfigError(f"rate-limit scope must be letters, digits, '_', '.', '-': {scope!r}")
    return ":".join([scope, *map(key_part, parts)])


def key_part(part: str) -> str:
    """One part of :func:`limit_key`, escaped: ``limit_key(s, a, b) == limit_key(s, a) + ":" +
    key_part(b)``, so a caller can build the constant prefix once."""
    if not isinstance(part, str):
        raise ConfigError(f"rate-limit key parts must be strings, got {part!r}")
    if len(part) > _MAX_PART:
        return "#" + hashlib.sha256(part.encode("utf-8", "surrogatepass")).hexdigest()[:32]
    return part.translate(_ESCAPES)


class _Log:
    """Sliding-window state: admitted (time, cost) pairs, oldest first, and their sum."""

    __slots__ = ("entries", "total", "window_ns")

    def __init__(self, window_ns: int) -> None:
        self.entries: deque[tuple[int, int]] = deque()
        self.total = 0
        self.window_ns = window_ns


class MemoryLimiter:
    """Limits kept in this process: the default, and what one gateway instance needs.

    Each hit is O(1) (amortised for the sliding window) and needs no ``await``; memory is
    bounded by ``max_keys``: keys whose state has run out are dropped as hits come in, and
    past the bound the least recently hit key is dropped (counted in ``forced_evictions``,
    worth a metric: a non-zero count means ``max_keys`` is too small for the traffic).
    ``clock`` (seconds, monotonic) is injectable for tests.
    """

    def __init__(
        self, *, max_keys: int = 100_000, clock: Callable[[], float] | None = None
    ) -> None:
        self._max_keys = _positive_int(max_keys, "max_keys")
        self._clock = clock
        self._state: OrderedDict[tuple[str, str], int | _Log] = OrderedDict()
        # uncontended it costs ~0.1 µs; it keeps hits atomic if a server runs threads
        self._lock = threading.Lock()
        self.forced_evictions = 0

    def __len__(self) -> int:
        return len(self._state)

    async def hit(self, key: str, limit: Limit, cost: int = 1) -> Verdict:
        """See :meth:`Limiter.hit`."""
        return self.hit_sync(key, limit, cost)

    def hit_sync(self, key: str, limit: Limit, cost: int = 1) -> Verdict:
        """:meth:`hit` without the coroutine, for callers that are not async."""
        if cost != 1 or type(cost) is not int:  # 1 always fits: a capacity is at least 1
            refused = check_cost(limit, cost)
            if refused is not None:
                return refused
        clock = self._clock
        with self._lock:
            # read under the lock: a key's hits stay in time order
            now = time.monotonic_ns() if clock is None else round(clock() * 1e9)
            if limit.algorithm == "gcra":
                verdict = self._gcra((limit.algorithm, key), limit, cost, now)
            else:
                verdict = self._sliding((limit.algorithm, key), limit, cost, now)
            self._trim(now)
        return verdict

    def _gcra(self, key: tuple[str, str], limit: Limit, cost: int, now: int) -> Verdict:
        interval = limit.interval_ns
        tau = interval * limit.capacity
        state = self._state.get(key)
        tat = state if isinstance(state, int) and state > now else now
        new_tat = tat + cost * interval
        allow_at = new_tat - tau
        if now < allow_at:
            if state is not None:
                self._state.move_to_end(key)
            return _verdict(
                False,
                limit.capacity,
                (now + tau - tat) // interval,
                (tat - now) / 1e9,
                (allow_at - now) / 1e9,
                OVER_LIMIT,
            )
        self._state[key] = new_tat
        self._state.move_to_end(key)
        return _verdict(
            True, limit.capacity, (now + tau - new_tat) // interval, (new_tat - now) / 1e9, None
        )

    def _sliding(self, key: tuple[str, str], limit: Limit, cost: int, now: int) -> Verdict:
        window = limit.window_ns
        state = self._state.get(key)
        if isinstance(state, _Log):
            log = state
            log.window_ns = window  # a reloaded limit applies to the hits already counted
        else:
            log = _Log(window)
        entries = log.entries
        cutoff = now - window
        while entries and entries[0][0] <= cutoff:
            log.total -= entries.popleft()[1]
        if log.total + cost > limit.requests:
            need, freed_at = log.total + cost - limit.requests, now
            for freed_at, units in entries:  # noqa: B007 - read after the loop; <= cost steps
                need -= units
                if need <= 0:
                    break
            if state is not None:
                self._state.move_to_end(key)
            return Verdict(
                False,
                limit.requests,
                limit.requests - log.total,
                (entries[-1][0] + window - now) / 1e9,
                (freed_at + window - now) / 1e9,
                OVER_LIMIT,
            )
        entries.append((now, cost))
        log.total += cost
        self._state[key] = log
        self._state.move_to_end(key)
        return Verdict(True, limit.requests, limit.requests - log.total, window / 1e9, None)

    def _trim(self, now: int) -> None:
        state = self._state
        # dropping up to two run-out keys per hit shrinks the table faster than hits grow it
        for _ in range(2):
            if not state:
                return
            oldest_key, oldest = next(iter(state.items()))
            if isinstance(oldest, int):
                if oldest > now:
                    break
            elif oldest.entries and oldest.entries[-1][0] + oldest.window_ns > now:
                break
            del state[oldest_key]
        while len(state) > self._max_keys:
            state.popitem(last=False)
            self.forced_evictions += 1
