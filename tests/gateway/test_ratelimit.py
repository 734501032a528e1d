"""The in-memory limiter, the key builder and the shared types (clock injected: no sleeping)."""

from __future__ import annotations

import asyncio
import math

import pytest

from apiward.errors import ConfigError
from apiward.gateway.ratelimit import (
    OVER_LIMIT,
    TOO_COSTLY,
    UNAVAILABLE,
    FailPolicy,
    Limit,
    Limiter,
    MemoryLimiter,
    Verdict,
    limit_key,
    unavailable,
)

ALGORITHMS = ["gcra", "sliding-window"]


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def _admitted(limiter: MemoryLimiter, key: str, limit: Limit, n: int, cost: int = 1) -> int:
    return sum(limiter.hit_sync(key, limit, cost).allowed for _ in range(n))


@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_admits_exactly_n_then_recovers_after_the_window(algorithm: str) -> None:
    clock = Clock()
    limiter = MemoryLimiter(clock=clock)
    limit = Limit(5, 10, algorithm)  # type: ignore[arg-type]
    assert _admitted(limiter, "k", limit, 5) == 5
    refused = limiter.hit_sync("k", limit)
    assert not refused.allowed and refused.reason == OVER_LIMIT and refused.remaining == 0
    clock.now += 10
    assert _admitted(limiter, "k", limit, 6) == 5


def test_sliding_window_recovers_nothing_before_the_window_ends() -> None:
    clock = Clock()
    limiter = MemoryLimiter(clock=clock)
    limit = Limit(5, 10, "sliding-window")
    assert _admitted(limiter, "k", limit, 5) == 5
    clock.now += 9.999
    assert not limiter.hit_sync("k", limit).allowed
    clock.now += 0.001
    assert _admitted(limiter, "k", limit, 6) == 5


def test_sliding_window_never_admits_more_than_n_in_any_window() -> None:
    clock = Clock()
    limiter = MemoryLimiter(clock=clock)
    limit = Limit(10, 1, "sliding-window")
    admitted: list[float] = []
    for _ in range(400):  # 4 s of hits every 10 ms
        if limiter.hit_sync("k", limit).allowed:
            admitted.append(clock.now)
        clock.now = round(clock.now + 0.01, 6)
    for i, start in enumerate(admitted):
        assert sum(1 for t in admitted[i:] if t < start + 1) <= 10
    assert len(admitted) == 40  # and no fewer: 10 in each of the 4 seconds


def test_gcra_refills_one_per_interval_and_honours_burst() -> None:
    clock = Clock()
    limiter = MemoryLimiter(clock=clock)
    limit = Limit(60, 60, burst=3)  # one a second, three at once
    assert _admitted(limiter, "k", limit, 10) == 3
    clock.now += 1
    assert _admitted(limiter, "k", limit, 10) == 1
    clock.now += 0.5
    refused = limiter.hit_sync("k", limit)
    assert not refused.allowed and refused.retry_after == pytest.approx(0.5)
    clock.now += 100
    assert _admitted(limiter, "k", limit, 10) == 3


def test_verdict_numbers_and_headers_gcra() -> None:
    clock = Clock()
    limiter = MemoryLimiter(clock=clock)
    limit = Limit(4, 2)  # one every 0.5 s
    first = limiter.hit_sync("k", limit)
    assert (first.allowed, first.limit, first.remaining) == (True, 4, 3)
    assert first.reset_after == pytest.approx(0.5) and first.retry_after is None
    assert first.headers() == [
        ("RateLimit-Limit", "4"),
        ("RateLimit-Remaining", "3"),
        ("RateLimit-Reset", "1"),
    ]
    _admitted(limiter, "k", limit, 3)
    refused = limiter.hit_sync("k", limit)
    assert refused.retry_after == pytest.approx(0.5) and refused.reset_after == pytest.approx(2)
    assert refused.headers() == [
        ("RateLimit-Limit", "4"),
        ("RateLimit-Remaining", "0"),
        ("RateLimit-Reset", "2"),
        ("Retry-After", "1"),
    ]
    assert refused.asgi_headers()[-1] == (b"retry-after", b"1")


def test_verdict_numbers_sliding_window() -> None:
    clock = Clock()
    limiter = MemoryLimiter(clock=clock)
    limit = Limit(3, 10, "sliding-window")
    limiter.hit_sync("k", limit)
    clock.now += 4
    limiter.hit_sync("k", limit, cost=2)
    clock.now += 1
    refused = limiter.hit_sync("k", limit)
    # the first unit (t=0) frees at t=10; everything is back at t=14
    assert refused.retry_after == pytest.approx(5) and refused.reset_after == pytest.approx(9)
    assert refused.headers()[-1] == ("Retry-After", "5")
    refused = limiter.hit_sync("k", limit, cost=2)
    assert refused.retry_after == pytest.approx(9)  # needs the cost-2 entry gone too


@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_cost_counts_units(algorithm: str) -> None:
    limiter = MemoryLimiter(clock=Clock())
    limit = Limit(10, 60, algorithm)  # type: ignore[arg-type]
    assert limiter.hit_sync("k", limit, cost=4).remaining == 6
    assert limiter.hit_sync("k", limit, cost=4).remaining == 2
    refused = limiter.hit_sync("k", limit, cost=3)
    assert not refused.allowed and refused.remaining == 2
    assert limiter.hit_sync("k", limit, cost=2).allowed
    too_costly = limiter.hit_sync("other", limit, cost=11)
    assert not too_costly.allowed and too_costly.reason == TOO_COSTLY
    assert too_costly.retry_after is None and ("Retry-After", "1") not in too_costly.headers()


def test_keys_and_algorithms_are_separate() -> None:
    limiter = MemoryLimiter(clock=Clock())
    assert _admitted(limiter, "a", Limit(2, 60), 5) == 2
    assert _admitted(limiter, "b", Limit(2, 60), 5) == 2
    assert _admitted(limiter, "a", Limit(2, 60, "sliding-window"), 5) == 2


def test_concurrent_tasks_admit_exactly_the_limit() -> None:
    limiter: Limiter = MemoryLimiter()
    limit = Limit(100, 3600)

    async def run() -> int:
        verdicts = await asyncio.gather(*(limiter.hit("k", limit) for _ in range(300)))
        return sum(v.allowed for v in verdicts)

    assert asyncio.run(run()) == 100


def test_memory_is_bounded_and_run_out_keys_go_first() -> None:
    clock = Clock()
    limiter = MemoryLimiter(max_keys=50, clock=clock)
    for i in range(500):
        limiter.hit_sync(f"k{i}", Limit(1, 1))
        limiter.hit_sync(f"s{i}", Limit(1, 1, "sliding-window"))
        assert len(limiter) <= 50
    assert limiter.forced_evictions > 0
    clock.now += 2
    evictions = limiter.forced_evictions
    for i in range(200):  # idle keys make room: nothing active needs evicting
        limiter.hit_sync(f"n{i}", Limit(1, 0.1))
        clock.now += 0.01
    assert len(limiter) <= 50 and limiter.forced_evictions == evictions


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"requests": 0, "per_seconds": 1}, "requests must be a whole number >= 1, got 0"),
        ({"requests": -5, "per_seconds": 1}, "requests must be a whole number >= 1, got -5"),
        ({"requests": 1.5, "per_seconds": 1}, "requests must be a whole number"),
        ({"requests": True, "per_seconds": 1}, "requests must be a whole number"),
        ({"requests": 1, "per_seconds": 0}, "per_seconds must be > 0, got 0"),
        ({"requests": 1, "per_seconds": -1.0}, "per_seconds must be > 0"),
        ({"requests": 1, "per_seconds": math.inf}, "per_seconds must be a finite number"),
        ({"requests": 1, "per_seconds": "60"}, "per_seconds must be a finite number"),
        ({"requests": 1, "per_seconds": 1, "algorithm": "fixed"}, "algorithm must be one of"),
        ({"requests": 1, "per_seconds": 1, "burst": 0}, "burst must be a whole number >= 1"),
        (
            {"requests": 1, "per_seconds": 1, "algorithm": "sliding-window", "burst": 2},
            "burst applies to the gcra algorithm only",
        ),
    ],
)
def test_bad_limits_raise_config_errors(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        Limit(**kwargs)  # type: ignore[arg-type]


@pytest.mark.parametrize("cost", [0, -1, 1.0, True])
def test_bad_cost_raises(cost: object) -> None:
    with pytest.raises(ConfigError, match="cost must be a whole number >= 1"):
        MemoryLimiter().hit_sync("k", Limit(5, 1), cost)  # type: ignore[arg-type]


def test_bad_limiter_options_raise() -> None:
    with pytest.raises(ConfigError, match="max_keys"):
        MemoryLimiter(max_keys=0)


def test_limit_key_escapes_separators_and_hash_tags() -> None:
    assert limit_key("ip", "10.0.0.1") == "ip:10.0.0.1"
    assert limit_key("ip", "::1") == "ip:%3A%3A1"
    assert limit_key("user", "a{b}c", "50%") == "user:a%7Bb%7Dc:50%25"
    keys = {
        limit_key("u", "a:b"),
        limit_key("u", "a", "b"),
        limit_key("u", "a%3Ab"),
        limit_key("u", "a:b", ""),
        limit_key("u"),
        limit_key("u", ""),
    }
    assert len(keys) == 6
    long = "x" * 10_000
    hashed = limit_key("user", long)
    assert len(hashed) < 50 and hashed.startswith("user:#")
    assert hashed != limit_key("user", long + "y")
    assert limit_key("user", "#" + hashed[6:]) != hashed  # a client cannot forge a hashed part


@pytest.mark.parametrize("scope", ["", "a:b", "a{b}", "has space"])
def test_limit_key_rejects_bad_scopes(scope: str) -> None:
    with pytest.raises(ConfigError, match="scope"):
        limit_key(scope, "x")


def test_unavailable_verdicts_follow_the_policy() -> None:
    closed = unavailable(Limit(5, 1), FailPolicy.CLOSED, "connection refused")
    assert not closed.allowed and closed.degraded
    assert closed.reason == f"{UNAVAILABLE}: connection refused"
    assert closed.headers() == [("Retry-After", "1")]  # no made-up RateLimit-* numbers
    opened = unavailable(Limit(5, 1), FailPolicy.OPEN, "timeout")
    assert opened.allowed and opened.degraded and "fail-open" in (opened.reason or "")
    assert opened.headers() == []


def test_verdict_headers_clamp() -> None:
    verdict = Verdict(False, 10, -3, 0.2, 0.0, OVER_LIMIT)
    assert dict(verdict.headers()) == {
        "RateLimit-Limit": "10",
        "RateLimit-Remaining": "0",
        "RateLimit-Reset": "1",
        "Retry-After": "1",
    }


@pytest.mark.parametrize(
    "verdict",
    [
        Verdict(True, 100, 99, 0.6, None),
        Verdict(False, 5, -2, 0.0, 0.2, OVER_LIMIT),
        Verdict(False, 5, 0, 12.5, None, TOO_COSTLY),
        unavailable(Limit(5, 1), FailPolicy.CLOSED, "down"),
        unavailable(Limit(5, 1), FailPolicy.OPEN, "down"),
    ],
)
def test_asgi_headers_are_the_headers_in_asgi_form(verdict: Verdict) -> None:
    expected = [(k.lower().encode(), v.encode()) for k, v in verdict.headers()]
    assert verdict.asgi_headers() == expected


def test_the_fast_verdicts_equal_the_dataclass_ones() -> None:
    clock = Clock()
    limiter = MemoryLimiter(clock=clock)
    limit = Limit(2, 1)
    admitted = limiter.hit_sync("k", limit)
    assert admitted == Verdict(True, 2, admitted.remaining, admitted.reset_after, None)
    limiter.hit_sync("k", limit)
    refused = limiter.hit_sync("k", limit)
    assert refused == Verdict(
        False, 2, refused.remaining, refused.reset_after, refused.retry_after, OVER_LIMIT
    )
    assert hash(refused) == hash(
        Verdict(False, 2, refused.remaining, refused.reset_after, refused.retry_after, OVER_LIMIT)
    )
