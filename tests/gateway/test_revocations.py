"""The revocation list: what it refuses, its file and Redis stores, and failing closed."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import redis

from apiward.gateway.auth_common import Principal
from apiward.gateway.ratelimit_redis import RedisLimiter
from apiward.gateway.revocations import (
    STALE,
    Revocation,
    RevocationError,
    Revocations,
    parse_revocation,
)
from apiward.gateway.revocations_store import _PRUNE, FileRevocationStore, RedisRevocationStore
from tests.gateway.test_ratelimit_redis import DOWN_URL, URL, needs_redis

NOW = 1_800_000_000.0


class Clock:
    def __init__(self) -> None:
        self.now = NOW

    def __call__(self) -> float:
        return self.now


def _token(sub: str = "alice", **claims: Any) -> Principal:
    return Principal(sub, frozenset(), frozenset(), {"sub": sub, **claims}, "bearer")


def _key(key_id: str, owner: str = "") -> Principal:
    claims = {"key_id": key_id, "name": "k", "owner": owner}
    return Principal(owner or f"apikey:{key_id}", frozenset(), frozenset(), claims, "apiKey")


def _file_list(tmp: Path, clock: Clock, **options: Any) -> Revocations:
    store = FileRevocationStore(tmp / "revocations.json", clock=clock)
    return Revocations(store, clock=clock, **options)


def _run(coro: Any) -> Any:
    return asyncio.run(coro)


def test_a_revoked_token_id_is_refused_until_its_time_runs_out(tmp_path: Path) -> None:
    clock = Clock()
    revocations = _file_list(tmp_path, clock)
    _run(revocations.sync())
    assert revocations.refusal(_token(jti="t-1")) is None
    _run(revocations.revoke("token", "t-1", until=NOW + 60))
    assert revocations.refusal(_token(jti="t-1")) == "token_revoked"
    assert revocations.refusal(_token(jti="t-2")) is None
    clock.now = NOW + 61
    _run(revocations.sync())  # stays fresh: the store answers
    assert revocations.refusal(_token(jti="t-1")) is None


def test_a_revoked_subject_refuses_what_was_issued_before_and_admits_what_came_after(
    tmp_path: Path,
) -> None:
    revocations = _file_list(tmp_path, Clock())
    _run(revocations.sync())
    _run(revocations.revoke("subject", "alice"))
    assert revocations.refusal(_token(iat=NOW - 5)) == "subject_revoked"
    # an issuer's clock may run ahead: just after the revocation still counts as before
    assert revocations.refusal(_token(iat=NOW + 20)) == "subject_revoked"
    assert revocations.refusal(_token(iat=NOW + 40)) is None  # signed in again afterwards
    assert revocations.refusal(_token()) == "subject_revoked"  # no issue time: refused
    assert revocations.refusal(_token("bob", iat=NOW - 5)) is None


def test_a_revoked_key_matches_api_key_principals_only(tmp_path: Path) -> None:
    revocations = _file_list(tmp_path, Clock())
    _run(revocations.sync())
    _run(revocations.revoke("key", "k1"))
    assert revocations.refusal(_key("k1"), {"apiKey"}) == "key_revoked"
    assert revocations.refusal(_key("k2"), {"apiKey"}) is None
    # a token whose claims happen to say key_id=k1 is not that key
    assert revocations.refusal(_token(key_id="k1"), {"apiKey"}) is None


def test_one_revoked_part_of_a_layered_principal_refuses_the_whole(tmp_path: Path) -> None:
    revocations = _file_list(tmp_path, Clock())
    _run(revocations.sync())
    _run(revocations.revoke("key", "k1"))
    both = Principal("alice", frozenset(), frozenset(), {}, "bearer", (_token(), _key("k1")))
    assert revocations.refusal(both, {"apiKey"}) == "key_revoked"


def test_a_revocation_made_by_one_process_reaches_another_through_the_file(
    tmp_path: Path,
) -> None:
    clock = Clock()
    first, second = _file_list(tmp_path, clock), _file_list(tmp_path, clock)
    _run(first.sync())
    _run(second.sync())
    _run(first.revoke("token", "t-9", note="leaked"))
    assert second.refusal(_token(jti="t-9")) is None  # not polled yet
    assert _run(second.sync())
    assert second.refusal(_token(jti="t-9")) == "token_revoked"
    assert [r.note for r in second.entries()] == ["leaked"]
    assert _run(second.unrevoke("token", "t-9"))
    _run(first.sync())
    assert first.refusal(_token(jti="t-9")) is None
    assert not _run(first.unrevoke("token", "t-9"))


def test_an_unreadable_store_fails_closed_once_stale_and_recovers(tmp_path: Path) -> None:
    clock = Clock()
    revocations = _file_list(tmp_path, clock, stale_after=10)
    _run(revocations.sync())
    (tmp_path / "revocations.json").write_text("{not json")
    assert not _run(revocations.sync())
    assert "not JSON" in revocations.status()["error"]
    assert revocations.refusal(_token()) is None  # still within stale_after
    clock.now = NOW + 11
    assert revocations.refusal(_token()) == STALE
    (tmp_path / "revocations.json").write_text('{"revocations": []}')
    assert _run(revocations.sync())
    assert revocations.refusal(_token()) is None


def test_failing_open_admits_while_stale_but_still_refuses_what_it_knows(tmp_path: Path) -> None:
    clock = Clock()
    revocations = _file_list(tmp_path, clock, stale_after=10, fail="open")
    _run(revocations.sync())
    _run(revocations.revoke("token", "t-1"))
    (tmp_path / "revocations.json").write_text("[")
    clock.now = NOW + 100
    assert not _run(revocations.sync()) and revocations.stale()
    assert revocations.refusal(_token()) is None
    assert revocations.refusal(_token(jti="t-1")) == "token_revoked"


def test_a_deleted_file_is_refilled_from_what_the_gateways_know(tmp_path: Path) -> None:
    clock = Clock()
    first, second = _file_list(tmp_path, clock), _file_list(tmp_path, clock)
    _run(first.sync())
    _run(first.revoke("token", "t-1"))
    _run(second.sync())
    (tmp_path / "revocations.json").unlink()
    assert _run(second.sync())
    assert second.refusal(_token(jti="t-1")) == "token_revoked"
    assert _run(first.sync())  # the file is back, with the revocation in it
    assert [(r.kind, r.value) for r in first.entries()] == [("token", "t-1")]
    stored = json.loads((tmp_path / "revocations.json").read_text())["revocations"]
    assert [(r["kind"], r["id"]) for r in stored] == [("token", "t-1")]


class SlowLoad(FileRevocationStore):
    """Its load() reads the file, then waits until told to go on."""

    def __init__(self, path: Path) -> None:
        super().__init__(path)
        self.loading = asyncio.Event()
        self.go_on = asyncio.Event()

    async def load(self) -> tuple[str, list[Revocation]]:
        result = await super().load()
        self.loading.set()
        await self.go_on.wait()
        return result


def test_a_poll_in_flight_does_not_undo_a_revocation(tmp_path: Path) -> None:
    async def body() -> str | None:
        store = SlowLoad(tmp_path / "revocations.json")
        store.path.write_text('{"revocations": []}')
        revocations = Revocations(store)
        poll = asyncio.create_task(revocations.sync())
        await store.loading.wait()  # the poll holds an empty snapshot
        revoking = asyncio.create_task(revocations.revoke("token", "t-1"))
        await asyncio.sleep(0.01)
        store.go_on.set()
        await poll
        await revoking
        return revocations.refusal(_token(jti="t-1"))

    assert _run(body()) == "token_revoked"


def test_a_bad_entry_in_the_file_is_named(tmp_path: Path) -> None:
    path = tmp_path / "revocations.json"
    path.write_text(json.dumps({"revocations": [{"kind": "token", "id": "a", "at": 1}, {}]}))
    with pytest.raises(RevocationError, match=r"revocations\[1\]\.kind"):
        _run(FileRevocationStore(path).load())


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ([], "a JSON object is expected"),
        ({"kind": "user", "id": "x"}, "kind: one of key, token, subject"),
        ({"kind": "token", "id": ""}, "id: a string of 1 to 512"),
        ({"kind": "token", "id": "x", "until": "soon"}, "until: a finite number"),
        ({"kind": "token", "id": "x", "expires_in": -1}, "expires_in: a positive number"),
        ({"kind": "token", "id": "x", "until": 1, "expires_in": 1}, "not both"),
        ({"kind": "token", "id": "x", "who": 1}, "unknown field"),
        ({"kind": "token", "id": "x", "until": 10**400}, "until: a finite number"),
        ({"kind": "token", "id": "x", "until": NOW - 1}, "not in the future"),
        ({"kind": "token", "id": "x", "at": 1}, r"unknown field\(s\) at"),
    ],
)
def test_a_malformed_revocation_is_refused_with_the_field_named(data: Any, message: str) -> None:
    with pytest.raises(RevocationError, match=message):
        parse_revocation(data, now=NOW)


def test_expires_in_counts_from_now() -> None:
    parsed = parse_revocation({"kind": "token", "id": "x", "expires_in": 30}, now=NOW)
    assert parsed == Revocation("token", "x", NOW, NOW + 30)


def test_a_stored_revocation_keeps_its_time_and_may_have_expired() -> None:
    data = {"kind": "token", "id": "x", "at": 5, "until": 10}
    assert parse_revocation(data, now=NOW, stored=True) == Revocation("token", "x", 5, 10)


def test_stale_after_must_leave_room_for_a_missed_poll() -> None:
    from pydantic import ValidationError

    from apiward.config.gateway import RevocationsSection

    with pytest.raises(ValidationError, match="at least twice poll-interval"):
        RevocationsSection.model_validate({"poll-interval": "30s"})
    assert RevocationsSection.model_validate({"poll-interval": "5s", "stale-after": "10s"})


# -- Redis -----------------------------------------------------------------------------------


@pytest.fixture
def prefix() -> Iterator[str]:
    name = f"apiward-test-{uuid.uuid4().hex[:8]}"
    yield name
    with redis.Redis.from_url(URL) as client:
        client.delete(f"{name}:revocations")


async def _redis_pair(prefix: str, clock: Clock) -> tuple[Revocations, Revocations, Any]:
    limiter = RedisLimiter.from_url(URL, timeout=5.0)
    lists = [
        Revocations(
            RedisRevocationStore(limiter.client, prefix=prefix, timeout=5.0, clock=clock),
            clock=clock,
        )
        for _ in range(2)
    ]
    return lists[0], lists[1], limiter


@needs_redis
def test_gateways_sharing_redis_see_each_others_revocations(prefix: str) -> None:
    clock = Clock()

    async def body() -> None:
        first, second, limiter = await _redis_pair(prefix, clock)
        try:
            assert await first.sync() and await second.sync()
            await first.revoke("token", "t-1", until=NOW + 60)
            await first.revoke("subject", "bob")
            assert second.refusal(_token(jti="t-1")) is None
            assert await second.sync()
            assert second.refusal(_token(jti="t-1")) == "token_revoked"
            assert second.refusal(_token("bob", iat=NOW - 1)) == "subject_revoked"
            assert await second.unrevoke("subject", "bob")
            assert await first.sync()
            assert first.refusal(_token("bob", iat=NOW - 1)) is None
            # expired entries stop counting, and the next load drops them from Redis
            clock.now = NOW + 61
            await first.revoke("key", "k1")  # a change, so the others reload
            assert await second.sync()
            assert second.refusal(_token(jti="t-1")) is None
            with redis.Redis.from_url(URL) as client:
                fields = {f.decode() for f in client.hkeys(f"{prefix}:revocations")}
            assert fields == {"_g", "_v", "key:k1"}
        finally:
            await limiter.aclose()

    _run(body())


@needs_redis
def test_a_redis_that_lost_the_hash_is_refilled(prefix: str) -> None:
    clock = Clock()

    async def body() -> None:
        first, second, limiter = await _redis_pair(prefix, clock)
        try:
            await first.sync()
            await first.revoke("subject", "mallory")
            assert await second.sync()
            with redis.Redis.from_url(URL) as client:
                client.delete(f"{prefix}:revocations")  # a restart without persistence
            assert await second.sync()
            assert second.refusal(_token("mallory", iat=NOW - 1)) == "subject_revoked"
            assert await first.sync()
            assert [(r.kind, r.value) for r in first.entries()] == [("subject", "mallory")]
            with redis.Redis.from_url(URL) as client:
                assert client.hexists(f"{prefix}:revocations", "subject:mallory")
        finally:
            await limiter.aclose()

    _run(body())


@needs_redis
def test_tidying_up_drops_an_expired_field_only_if_nobody_rewrote_it(prefix: str) -> None:
    async def body() -> list[str]:
        limiter = RedisLimiter.from_url(URL, timeout=5.0)
        store = RedisRevocationStore(limiter.client, prefix=prefix, timeout=5.0)
        key = f"{prefix}:revocations"
        old = json.dumps({"kind": "token", "id": "t", "at": 1, "until": 2})
        new = json.dumps({"kind": "token", "id": "t", "at": NOW})
        try:
            with redis.Redis.from_url(URL) as client:
                client.hset(key, mapping={"token:t": new, "token:u": old})
            # a gateway read token:t when it still held `old`; another rewrote it since
            await store._call("EVAL", _PRUNE, 1, key, "token:t", old, "token:u", old)
            with redis.Redis.from_url(URL) as client:
                return sorted(f.decode() for f in client.hkeys(key))
        finally:
            await limiter.aclose()

    assert _run(body()) == ["token:t"]


@needs_redis
def test_redis_down_makes_the_list_stale_and_refusing() -> None:
    clock = Clock()

    async def body() -> None:
        limiter = RedisLimiter.from_url(DOWN_URL, timeout=0.2)
        store = RedisRevocationStore(limiter.client, timeout=0.2, clock=clock)
        revocations = Revocations(store, clock=clock, stale_after=10)
        try:
            assert not await revocations.sync()
            assert revocations.status()["stale"] and revocations.status()["error"]
            assert revocations.refusal(_token()) == STALE
        finally:
            await limiter.aclose()

    _run(body())


class SwallowsCancel(FileRevocationStore):
    """A store whose client turns a cancel mid-call into an error of its own."""

    def __init__(self, path: Path) -> None:
        super().__init__(path)
        self.calls = 0

    async def version(self) -> str:
        self.calls += 1
        if self.calls > 1:  # the first read (start) answers; the polls hang until cancelled
            try:
                await asyncio.sleep(60)
            except asyncio.CancelledError:
                raise ConnectionError("connection closed by a cancel") from None
        return await super().version()


def test_closing_ends_the_poll_even_if_the_store_swallows_the_cancel(tmp_path: Path) -> None:
    async def body() -> None:
        store = SwallowsCancel(tmp_path / "revocations.json")
        revocations = Revocations(store, poll_interval=0.01)
        await revocations.start()
        while store.calls < 2:  # a poll is in the store's hands
            await asyncio.sleep(0.01)
        closing = asyncio.create_task(revocations.aclose())
        done, _ = await asyncio.wait({closing}, timeout=10)  # a bound, not a speed claim
        assert closing in done, "aclose is still waiting for the poll to end"
        closing.result()

    _run(body())
