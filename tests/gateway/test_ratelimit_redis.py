"""The Redis limiter against the real Redis on 127.0.0.1:6379 (one key prefix per test)."""

from __future__ import annotations

import asyncio
import multiprocessing
import uuid
from collections.abc import Awaitable, Callable, Iterator
from typing import Any

import pytest
import redis
from redis.crc import key_slot

from apiward.errors import ConfigError
from apiward.gateway import ratelimit_redis
from apiward.gateway.ratelimit import (
    OVER_LIMIT,
    TOO_COSTLY,
    UNAVAILABLE,
    FailPolicy,
    Limit,
    Verdict,
    limit_key,
)
from apiward.gateway.ratelimit_redis import RedisLimiter

URL = "redis://127.0.0.1:6379/0"
DOWN_URL = "redis://127.0.0.1:1/0"  # nothing listens on port 1
ALGORITHMS = ["gcra", "sliding-window"]


def _redis_up() -> bool:
    try:
        with redis.Redis.from_url(URL, socket_connect_timeout=1, socket_timeout=1) as client:
            return bool(client.ping())
    except redis.RedisError:
        return False


needs_redis = pytest.mark.skipif(not _redis_up(), reason="no Redis at 127.0.0.1:6379")


@pytest.fixture
def prefix() -> Iterator[str]:
    prefix = f"apiward-test:rl:{uuid.uuid4().hex}"
    yield prefix
    if _redis_up():
        with redis.Redis.from_url(URL) as client:
            keys = list(client.scan_iter(match=f"{prefix}:*", count=1000))
            if keys:
                client.delete(*keys)


def _run(prefix: str, body: Callable[[RedisLimiter], Awaitable[Any]], **options: Any) -> Any:
    # these tests are about answers, not latency: a generous timeout keeps a busy
    # machine (the whole suite on two cores) from turning an answer into a timeout
    options.setdefault("timeout", 5.0)

    async def main() -> Any:
        limiter = RedisLimiter.from_url(URL, prefix=prefix, **options)
        try:
            return await body(limiter)
        finally:
            await limiter.aclose()

    return asyncio.run(main())


async def _hits(limiter: RedisLimiter, key: str, limit: Limit, n: int) -> list[Verdict]:
    return [await limiter.hit(key, limit) for _ in range(n)]


@needs_redis
@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_admits_exactly_n_and_refuses_the_next(prefix: str, algorithm: str) -> None:
    limit = Limit(5, 3600, algorithm)  # type: ignore[arg-type]
    verdicts = _run(prefix, lambda lim: _hits(lim, "k", limit, 8))
    assert [v.allowed for v in verdicts] == [True] * 5 + [False] * 3
    assert [v.remaining for v in verdicts[:5]] == [4, 3, 2, 1, 0]
    refused = verdicts[5]
    assert refused.reason == OVER_LIMIT and not refused.degraded
    assert refused.retry_after is not None and 0 < refused.retry_after <= 3600
    headers = dict(refused.headers())
    assert headers["RateLimit-Limit"] == "5" and headers["RateLimit-Remaining"] == "0"
    assert 1 <= int(headers["Retry-After"]) <= 3600
    assert 1 <= int(headers["RateLimit-Reset"]) <= 3600


@needs_redis
@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_recovers_after_the_window(prefix: str, algorithm: str) -> None:
    limit = Limit(3, 0.5, algorithm)  # type: ignore[arg-type]

    async def body(limiter: RedisLimiter) -> list[Verdict]:
        for _ in range(20):  # until refused; a slow machine only refills more
            refused = await limiter.hit("k", limit)
            if not refused.allowed:
                break
        assert not refused.allowed and refused.retry_after is not None
        await asyncio.sleep(min(refused.reset_after + 0.05, 2.0))
        return await _hits(limiter, "k", limit, 3)

    assert all(v.allowed for v in _run(prefix, body))


@needs_redis
@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_cost_counts_units(prefix: str, algorithm: str) -> None:
    limit = Limit(10, 3600, algorithm)  # type: ignore[arg-type]

    async def body(limiter: RedisLimiter) -> list[Verdict]:
        return [
            await limiter.hit("k", limit, cost=4),
            await limiter.hit("k", limit, cost=4),
            await limiter.hit("k", limit, cost=3),
            await limiter.hit("k", limit, cost=2),
            await limiter.hit("k", limit, cost=1),
            await limiter.hit("k", limit, cost=11),
        ]

    verdicts = _run(prefix, body)
    assert [v.allowed for v in verdicts] == [True, True, False, True, False, False]
    assert [v.remaining for v in verdicts[:5]] == [6, 2, 2, 0, 0]
    assert verdicts[5].reason == TOO_COSTLY and verdicts[5].retry_after is None


@needs_redis
@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_state_expires_in_redis(prefix: str, algorithm: str) -> None:
    limit = Limit(10, 30, algorithm)  # type: ignore[arg-type]
    limiter_key = _run(prefix, lambda lim: _hit_and_key(lim, limit))
    with redis.Redis.from_url(URL) as client:
        assert 0 < client.pttl(limiter_key) <= 30_001


async def _hit_and_key(limiter: RedisLimiter, limit: Limit) -> str:
    await limiter.hit("k", limit)
    return limiter.redis_key("k", limit)


@needs_redis
def test_noscript_falls_back_to_eval(prefix: str, monkeypatch: pytest.MonkeyPatch) -> None:
    script = ratelimit_redis._GCRA + f"\n-- {prefix}\n"  # a script no one has loaded yet
    sha = ratelimit_redis._sha1(script)
    monkeypatch.setitem(ratelimit_redis._SCRIPTS, "gcra", (script, sha))
    with redis.Redis.from_url(URL) as client:
        assert client.script_exists(sha) == [False]
        verdicts = _run(prefix, lambda lim: _hits(lim, "k", Limit(2, 60), 3))
        assert client.script_exists(sha) == [True]
    assert [v.allowed for v in verdicts] == [True, True, False]


def _fire(
    prefix: str,
    algorithm: str,
    barrier: Any,
    results: Any,
    tasks: int = 50,
    hits_per_task: int = 3,
) -> None:
    """One gateway process: `tasks` concurrent tasks hitting the same key."""
    limit = Limit(100, 3600 if algorithm == "gcra" else 60, algorithm)  # type: ignore[arg-type]

    async def main() -> tuple[int, int, int]:
        # the test is about atomicity, not latency: a generous timeout keeps a busy
        # machine from turning hits into fail-closed refusals
        limiter = RedisLimiter.from_url(URL, prefix=prefix, timeout=10.0)
        try:

            async def task() -> list[Verdict]:
                return [await limiter.hit("shared", limit) for _ in range(hits_per_task)]

            # open all connections first so that both processes start firing together
            await asyncio.gather(*(limiter.hit("warm-up", limit) for _ in range(tasks)))
            await asyncio.to_thread(barrier.wait, 60)
            verdicts = [
                v for vs in await asyncio.gather(*(task() for _ in range(tasks))) for v in vs
            ]
        finally:
            await limiter.aclose()
        return (
            sum(v.allowed for v in verdicts),
            sum(v.degraded for v in verdicts),
            len(verdicts),
        )

    results.put(asyncio.run(main()))


@needs_redis
@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_two_processes_admit_exactly_the_limit(prefix: str, algorithm: str) -> None:
    """THE BAR: 2 processes x 50 concurrent tasks x 3 hits on one key, limit 100: exactly 100.

    GCRA refills continuously (100 per 60 s is one every 0.6 s), so its limit is 100 per
    hour here: within the test nothing may refill and the expected count stays exact.
    """
    ctx = multiprocessing.get_context("spawn")
    barrier = ctx.Barrier(2)
    results = ctx.Queue()
    procs = [ctx.Process(target=_fire, args=(prefix, algorithm, barrier, results)) for _ in "ab"]
    for proc in procs:
        proc.start()
    try:
        counts = [results.get(timeout=120) for _ in procs]
    finally:
        for proc in procs:
            proc.join(timeout=30)
            if proc.is_alive():
                proc.kill()
    results.close()
    results.join_thread()
    assert sum(c[2] for c in counts) == 300
    assert sum(c[1] for c in counts) == 0  # no fail-closed answers muddling the count
    assert sum(c[0] for c in counts) == 100


@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_redis_down_fails_closed_by_default(algorithm: str) -> None:
    limit = Limit(5, 1, algorithm)  # type: ignore[arg-type]

    async def main() -> list[Verdict]:
        limiter = RedisLimiter.from_url(DOWN_URL)
        try:
            return await _hits(limiter, "k", limit, 2)
        finally:
            await limiter.aclose()

    for verdict in asyncio.run(main()):
        assert not verdict.allowed and verdict.degraded
        assert verdict.reason is not None and verdict.reason.startswith(UNAVAILABLE)
        assert "127.0.0.1:1" in verdict.reason
        assert verdict.headers() == [("Retry-After", "1")]


def test_redis_down_admits_when_fail_open() -> None:
    async def main() -> Verdict:
        limiter = RedisLimiter.from_url(DOWN_URL, fail=FailPolicy.OPEN)
        try:
            return await limiter.hit("k", Limit(5, 1))
        finally:
            await limiter.aclose()

    verdict = asyncio.run(main())
    assert verdict.allowed and verdict.degraded
    assert verdict.reason is not None and "fail-open" in verdict.reason


def test_a_silent_redis_times_out_and_is_not_asked_again_for_a_while() -> None:
    now = [0.0]
    accepted: list[int] = []

    async def main() -> list[Verdict]:
        async def swallow(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            accepted.append(1)
            await reader.read()  # reads, never answers
            writer.close()

        server = await asyncio.start_server(swallow, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        limiter = RedisLimiter.from_url(
            f"redis://127.0.0.1:{port}/0", timeout=0.2, retry_interval=5, clock=lambda: now[0]
        )
        try:
            first = await limiter.hit("k", Limit(5, 1))
            calls = len(accepted)
            now[0] = 4.9
            second = await limiter.hit("k", Limit(5, 1))  # circuit open: Redis not asked
            assert len(accepted) == calls
            now[0] = 5.1
            third = await limiter.hit("k", Limit(5, 1))
            return [first, second, third]
        finally:
            await limiter.aclose()
            server.close()
            await server.wait_closed()

    verdicts = asyncio.run(main())
    for verdict in verdicts:
        assert not verdict.allowed and verdict.degraded
        assert verdict.reason == f"{UNAVAILABLE}: no answer within 0.2 s"


@needs_redis
def test_a_redis_error_fails_closed(prefix: str) -> None:
    limit = Limit(5, 1)

    async def body(limiter: RedisLimiter) -> Verdict:
        with redis.Redis.from_url(URL) as client:
            client.hset(limiter.redis_key("k", limit), "not", "a counter")
        return await limiter.hit("k", limit)

    verdict = _run(prefix, body)
    assert not verdict.allowed and verdict.degraded and "WRONGTYPE" in (verdict.reason or "")


def test_too_costly_is_refused_without_asking_redis() -> None:
    async def main() -> Verdict:
        limiter = RedisLimiter.from_url(DOWN_URL)
        try:
            return await limiter.hit("k", Limit(5, 1), cost=6)
        finally:
            await limiter.aclose()

    verdict = asyncio.run(main())
    assert not verdict.allowed and not verdict.degraded and verdict.reason == TOO_COSTLY


def test_keys_put_one_subject_in_one_slot_chosen_by_the_whole_subject() -> None:
    limiter = RedisLimiter(redis.asyncio.Redis(), prefix="apiward:rl")
    subject = limit_key("user", "alice", "getAccount")
    gcra = limiter.redis_key(subject, Limit(1, 1))
    sliding = limiter.redis_key(subject, Limit(1, 1, "sliding-window"))
    assert gcra == "apiward:rl:gcra:{user:alice:getAccount}"
    assert key_slot(gcra.encode()) == key_slot(sliding.encode()) == key_slot(subject.encode())
    # a client that puts braces in its name does not choose the slot: they are escaped
    sneaky = limiter.redis_key(limit_key("user", "{pinned}"), Limit(1, 1))
    assert key_slot(sneaky.encode()) == key_slot(b"user:%7Bpinned%7D") != key_slot(b"pinned")
    slots = {
        key_slot(limiter.redis_key(limit_key("ip", f"10.0.0.{i}"), Limit(1, 1)).encode())
        for i in range(100)
    }
    assert len(slots) > 90  # subjects spread over the cluster


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"prefix": "a{b}"}, "prefix"),
        ({"prefix": ""}, "prefix"),
        ({"timeout": 0}, "timeout"),
        ({"retry_interval": -1}, "retry_interval"),
    ],
)
def test_bad_redis_options_raise(options: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        RedisLimiter(redis.asyncio.Redis(), **options)
