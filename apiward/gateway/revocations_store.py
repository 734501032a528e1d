"""Where revocations live: a JSON file (one machine) or a Redis hash (several gateways).

Both answer :class:`~apiward.gateway.revocations.RevocationStore`: a cheap ``version()``
the gateways poll, ``load()``, ``add()`` and ``remove()``.

A version is ``<generation>:<change>``. The generation changes only when the store lost
its state (a Redis that restarted empty, a deleted file): the gateways then put back what
they still know (see ``Revocations.sync``).

Redis layout: one hash ``<prefix>:revocations`` (one key, so one Cluster slot), a field
``<kind>:<id>`` per revocation holding its JSON, the field ``_v``, a counter that every
change increments in the same script, and ``_g``, a random generation set by the first
change to a new hash. Expired revocations are dropped from the hash by whichever gateway
loads it next, each only if it is still the value that gateway read. This Redis must keep
the hash: persistence on, and no ``allkeys-*`` eviction policy.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import secrets
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from redis.asyncio import Redis
from redis.asyncio.cluster import RedisCluster

from apiward.gateway.revocations import (
    ABSENT,
    Kind,
    Revocation,
    RevocationError,
    dumps,
    parse_revocation,
)

try:
    import fcntl
except ImportError:  # Windows: one process per file
    fcntl = None  # type: ignore[assignment]

__all__ = ["FileRevocationStore", "RedisRevocationStore"]

_VERSION_FIELD = "_v"
_GENERATION_FIELD = "_g"
_ADD = """
redis.call('HSETNX', KEYS[1], '_g', ARGV[3])
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
return redis.call('HINCRBY', KEYS[1], '_v', 1)
"""
_REMOVE = """
local n = redis.call('HDEL', KEYS[1], ARGV[1])
if n > 0 then
  redis.call('HSETNX', KEYS[1], '_g', ARGV[2])
  redis.call('HINCRBY', KEYS[1], '_v', 1)
end
return n
"""
# pairs of (field, value read): a field is dropped only if nobody rewrote it since
_PRUNE = """
for i = 1, #ARGV, 2 do
  if redis.call('HGET', KEYS[1], ARGV[i]) == ARGV[i + 1] then
    redis.call('HDEL', KEYS[1], ARGV[i])
  end
end
return 0
"""


class FileRevocationStore:
    """Revocations in a JSON file, changed under a lock and replaced atomically."""

    def __init__(self, path: str | Path, *, clock: Callable[[], float] = time.time) -> None:
        self.path = Path(path)
        self.name = f"file:{self.path}"
        self._clock = clock

    async def version(self) -> str:
        return self._version_now()  # one stat(): cheap enough for the loop

    async def load(self) -> tuple[str, list[Revocation]]:
        return await asyncio.to_thread(self._load)

    def _load(self) -> tuple[str, list[Revocation]]:
        version = self._version_now()  # first: a change while reading shows at the next poll
        return version, [r for r in self._read() if not r.expired(self._clock())]

    def _version_now(self) -> str:
        try:
            st = self.path.stat()
        except FileNotFoundError:
            return ABSENT
        return f"file:{st.st_mtime_ns}:{st.st_size}:{st.st_ino}"

    def _read(self) -> list[Revocation]:
        try:
            text = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return []
        except OSError as exc:
            raise RevocationError(f"cannot read {self.path}: {exc.strerror or exc}") from None
        try:
            data = json.loads(text)
        except (ValueError, RecursionError) as exc:
            raise RevocationError(f"{self.path}: not JSON ({exc})") from None
        items = data.get("revocations") if isinstance(data, dict) else None
        if not isinstance(items, list):
            raise RevocationError(f'{self.path}: expected {{"revocations": [...]}}')
        now = self._clock()
        return [
            parse_revocation(item, now=now, where=f"{self.path}: revocations[{i}]", stored=True)
            for i, item in enumerate(items)
        ]

    async def add(self, revocation: Revocation) -> None:
        await asyncio.to_thread(self._change, revocation.kind, revocation.value, revocation)

    async def remove(self, kind: Kind, value: str) -> bool:
        return await asyncio.to_thread(self._change, kind, value, None)

    def _change(self, kind: str, value: str, revocation: Revocation | None) -> bool:
        with self._locked():
            now = self._clock()
            current = [r for r in self._read() if not r.expired(now)]
            kept = [r for r in current if (r.kind, r.value) != (kind, value)]
            if revocation is not None:
                kept.append(revocation)
            self._write(kept)
            return len(kept) != len(current) or revocation is not None

    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            lock = open(self.path.with_name(self.path.name + ".lock"), "a")  # noqa: SIM115
        except OSError as exc:
            raise RevocationError(f"cannot lock {self.path}: {exc.strerror or exc}") from None
        with lock:
            if fcntl is not None:
                fcntl.flock(lock, fcntl.LOCK_EX)
            yield

    def _write(self, revocations: list[Revocation]) -> None:
        try:
            fd, tmp = tempfile.mkstemp(dir=self.path.parent, prefix=f".{self.path.name}.")
            os.fchmod(fd, 0o644)  # mkstemp's 0600 would hide it from gateways run as others
            with os.fdopen(fd, "w", encoding="utf-8") as out:
                out.write(dumps(revocations))
                out.flush()
                os.fsync(out.fileno())
            os.replace(tmp, self.path)
        except OSError as exc:
            with contextlib.suppress(OSError, UnboundLocalError):
                os.unlink(tmp)
            raise RevocationError(f"cannot write {self.path}: {exc.strerror or exc}") from None

    async def aclose(self) -> None:
        return None


class RedisRevocationStore:
    """Revocations in one Redis hash; ``client`` is shared with the rate limiter."""

    def __init__(
        self,
        client: Redis | RedisCluster,
        *,
        prefix: str = "apiward",
        timeout: float = 0.25,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._client = client
        self.key = f"{prefix}:revocations"
        self.name = f"redis:{self.key}"
        self._timeout = timeout
        self._clock = clock

    async def _call(self, *args: Any) -> Any:
        async with asyncio.timeout(self._timeout):
            return await self._client.execute_command(*args)

    async def version(self) -> str:
        generation, change = await self._call("HMGET", self.key, _GENERATION_FIELD, _VERSION_FIELD)
        return _version(generation, change)

    async def load(self) -> tuple[str, list[Revocation]]:
        raw = await self._call("HGETALL", self.key)
        fields = _pairs(raw)
        version = _version(fields.pop(_GENERATION_FIELD, None), fields.pop(_VERSION_FIELD, None))
        now = self._clock()
        out: list[Revocation] = []
        expired: list[str] = []
        for name, text in fields.items():
            try:
                revocation = parse_revocation(json.loads(text), now=now, where=name, stored=True)
            except (ValueError, RecursionError, RevocationError) as exc:
                raise RevocationError(f"{self.name}: field {name!r}: {exc}") from None
            if revocation.expired(now):
                expired += (name, text)
            else:
                out.append(revocation)
        if expired:  # tidy up; the version stays, nothing anyone enforces changed
            with contextlib.suppress(Exception):
                await self._call("EVAL", _PRUNE, 1, self.key, *expired)
        return version, out

    async def add(self, revocation: Revocation) -> None:
        payload = json.dumps(revocation.to_dict(), separators=(",", ":"))
        generation = secrets.token_hex(8)
        await self._call("EVAL", _ADD, 1, self.key, revocation.field, payload, generation)

    async def remove(self, kind: Kind, value: str) -> bool:
        generation = secrets.token_hex(8)
        reply = await self._call("EVAL", _REMOVE, 1, self.key, f"{kind}:{value}", generation)
        return bool(reply)

    async def aclose(self) -> None:
        return None  # the client belongs to the rate limiter, which closes it


def _version(generation: Any, change: Any) -> str:
    if generation is None and change is None:
        return ABSENT
    return f"{_text(generation) if generation is not None else '-'}:{_text(change or 0)}"


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def _pairs(raw: Any) -> dict[str, str]:
    if isinstance(raw, dict):
        return {_text(k): _text(v) for k, v in raw.items()}
    items = list(raw or [])
    return {_text(items[i]): _text(items[i + 1]) for i in range(0, len(items) - 1, 2)}
