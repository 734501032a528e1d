"""Rate limits shared by several gateway instances through Redis (single, Sentinel or Cluster).

Each hit is ONE round trip: ``EVALSHA`` of a Lua script that reads the server's ``TIME``
(never a gateway's clock, which may drift) and updates the key's state atomically, so that
any number of instances together admit exactly the limit. After a script cache flush the
server answers ``NOSCRIPT`` once and that hit falls back to ``EVAL``, which reloads it.

Key design (``RedisLimiter.redis_key``)::

    <prefix>:<algorithm>:{<key>}      e.g.  apiward:rl:gcra:{user:alice:getAccount}

The whole subject is the Cluster hash tag, so everything kept for one subject lives in one
slot (the scripts touch one key today; a script that combined a quota and a rate for the
same subject would still run in one slot), and subjects spread over all slots.
:func:`~apiward.gateway.ratelimit.limit_key` escapes ``{`` and ``}`` in its parts, so a
client cannot pick its own hash tag to pile keys onto one node. The algorithm is in the key
because the two keep different Redis types.

State: GCRA keeps one integer (µs) per key; the sliding window a sorted set with one member
per admitted unit (up to ``requests`` per key). Both expire when they stop mattering.

Failure: every call is bounded by ``timeout``; on a Redis error or timeout the verdict comes
from :class:`~apiward.gateway.ratelimit.FailPolicy` (closed: refuse) and for
``retry_interval`` seconds after that Redis is not asked at all, so an outage costs no
latency per request. With Sentinel, hits admitted by a primary just before a failover and
not yet replicated are forgotten: a few extra admissions are possible at that moment.
"""

from __future__ import annotations

import asyncio
import hashlib
import math
import time
from collections.abc import Callable, Sequence
from typing import Any

from redis.asyncio import Redis
from redis.asyncio.cluster import RedisCluster
from redis.asyncio.sentinel import Sentinel
from redis.backoff import NoBackoff
from redis.exceptions import NoScriptError, RedisError
from redis.retry import Retry

from apiward.errors import ConfigError
from apiward.gateway.ratelimit import (
    OVER_LIMIT,
    FailPolicy,
    Limit,
    Verdict,
    check_cost,
    unavailable,
)

__all__ = ["DEFAULT_PREFIX", "RedisLimiter"]

DEFAULT_PREFIX = "apiward:rl"

# times are integer microseconds of the server clock; Lua numbers are doubles, exact to 2^53
_GCRA = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local interval = tonumber(ARGV[1])
local tau = interval * tonumber(ARGV[2])
local cost = tonumber(ARGV[3])
local tat = tonumber(redis.call('GET', KEYS[1]))
if not tat or tat < now then tat = now end
local new_tat = tat + cost * interval
local allow_at = new_tat - tau
if now < allow_at then
  return {0, math.floor((now + tau - tat) / interval), tat - now, allow_at - now}
end
redis.call('SET', KEYS[1], string.format('%d', new_tat), 'PX', math.ceil((new_tat - now) / 1000))
return {1, math.floor((now + tau - new_tat) / interval), new_tat - now, -1}
"""

_SLIDING = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local window = tonumber(ARGV[1])
local limit = tonumber(ARGV[2])
local cost = tonumber(ARGV[3])
local key = KEYS[1]
redis.call('ZREMRANGEBYSCORE', key, '-inf', now - window)
local used = redis.call('ZCARD', key)
local last = redis.call('ZRANGE', key, -1, -1, 'WITHSCORES')
if used + cost > limit then
  local i = used + cost - limit - 1
  local first = redis.call('ZRANGE', key, i, i, 'WITHSCORES')
  return {0, limit - used, tonumber(last[2]) + window - now, tonumber(first[2]) + window - now}
end
-- members must be unique: stamps strictly increase per key, even within one microsecond
local stamp = now
if last[2] and tonumber(last[2]) >= stamp then stamp = tonumber(last[2]) + 1 end
for n = 1, cost do
  redis.call('ZADD', key, stamp, string.format('%d.%d', stamp, n))
end
redis.call('PEXPIRE', key, math.ceil((stamp - now + window) / 1000) + 1)
return {1, limit - used - cost, window, -1}
"""


def _sha1(script: str) -> str:
    return hashlib.sha1(script.encode(), usedforsecurity=False).hexdigest()


_SCRIPTS = {"gcra": (_GCRA, _sha1(_GCRA)), "sliding-window": (_SLIDING, _sha1(_SLIDING))}


def _client_options(timeout: float) -> dict[str, Any]:
    # one quick retry on a fresh connection covers a pooled socket that Redis has closed;
    # backing off would only hold the request longer than `timeout` allows anyway
    return {
        "socket_timeout": timeout,
        "socket_connect_timeout": timeout,
        "retry": Retry(NoBackoff(), 1),
    }


class RedisLimiter:
    """A :class:`~apiward.gateway.ratelimit.Limiter` whose state lives in Redis.

    Build it with :meth:`from_url`, :meth:`sentinel` or :meth:`cluster` (or pass a
    ``redis.asyncio`` client). ``fail`` says what to answer when Redis cannot be asked within
    ``timeout`` seconds; ``aclose()`` it at shutdown.
    """

    def __init__(
        self,
        client: Redis | RedisCluster,
        *,
        prefix: str = DEFAULT_PREFIX,
        fail: FailPolicy = FailPolicy.CLOSED,
        timeout: float = 0.25,
        retry_interval: float = 0.5,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if not prefix or "{" in prefix or "}" in prefix:
            raise ConfigError(f"rate-limit Redis prefix must be non-empty, no braces: {prefix!r}")
        for name, value in (("timeout", timeout), ("retry_interval", retry_interval)):
            if not math.isfinite(value) or value < 0 or (name == "timeout" and value == 0):
                raise ConfigError(f"rate-limit Redis {name} must be a positive number: {value!r}")
        self._client = client
        self._prefix = prefix
        self._fail = FailPolicy(fail)
        self._timeout = timeout
        self._retry_interval = retry_interval
        self._clock = clock
        self._down_until = -math.inf
        self._down_reason = ""

    @classmethod
    def from_url(cls, url: str, *, timeout: float = 0.25, **options: Any) -> RedisLimiter:
        """One Redis server: ``redis://host:port/db``, ``rediss://`` or ``unix://``."""
        client = Redis.from_url(url, **_client_options(timeout))
        return cls(client, timeout=timeout, **options)

    @classmethod
    def sentinel(
        cls,
        sentinels: Sequence[tuple[str, int]],
        service_name: str,
        *,
        timeout: float = 0.25,
        password: str | None = None,
        **options: Any,
    ) -> RedisLimiter:
        """The primary that the Sentinels name ``service_name``, followed across failovers."""
        watch = Sentinel(  # type: ignore[no-untyped-call]
            list(sentinels), sentinel_kwargs={"socket_timeout": timeout}, password=password
        )
        client = watch.master_for(service_name, **_client_options(timeout))
        return cls(client, timeout=timeout, **options)

    @classmethod
    def cluster(cls, url: str, *, timeout: float = 0.25, **options: Any) -> RedisLimiter:
        """A Redis Cluster reached through any of its nodes (``redis://host:port``)."""
        client = RedisCluster.from_url(url, **_client_options(timeout))
        return cls(client, timeout=timeout, **options)

    @property
    def client(self) -> Redis | RedisCluster:
        """The connections, for other shared state (revocations) to use too."""
        return self._client

    def redis_key(self, key: str, limit: Limit) -> str:
        """The Redis key that holds ``key``'s state under ``limit``'s algorithm."""
        return f"{self._prefix}:{limit.algorithm}:{{{key}}}"

    async def hit(self, key: str, limit: Limit, cost: int = 1) -> Verdict:
        """See :meth:`apiward.gateway.ratelimit.Limiter.hit`."""
        refused = check_cost(limit, cost)
        if refused is not None:
            return refused
        if self._clock() < self._down_until:
            return unavailable(limit, self._fail, self._down_reason)
        if limit.algorithm == "gcra":
            args: tuple[int, int, int] = (-(-limit.interval_ns // 1000), limit.capacity, cost)
        else:
            args = (-(-limit.window_ns // 1000), limit.requests, cost)
        script, sha = _SCRIPTS[limit.algorithm]
        rkey = self.redis_key(key, limit)
        try:
            async with asyncio.timeout(self._timeout):
                try:
                    reply = await self._client.execute_command("EVALSHA", sha, 1, rkey, *args)
                except NoScriptError:
                    reply = await self._client.execute_command("EVAL", script, 1, rkey, *args)
        except (RedisError, OSError, TimeoutError) as exc:
            detail = str(exc) or type(exc).__name__
            if isinstance(exc, TimeoutError):
                detail = f"no answer within {self._timeout} s"
            self._down_reason = detail
            self._down_until = self._clock() + self._retry_interval
            return unavailable(limit, self._fail, detail)
        allowed, remaining, reset_us, retry_us = (int(v) for v in reply)
        return Verdict(
            allowed=bool(allowed),
            limit=limit.capacity,
            remaining=max(0, remaining),
            reset_after=max(0, reset_us) / 1e6,
            retry_after=None if allowed else max(0, retry_us) / 1e6,
            reason=None if allowed else OVER_LIMIT,
        )

    async def aclose(self) -> None:
        """Close the connections."""
        await self._client.aclose()
