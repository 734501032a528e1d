"""Revocations shared by every gateway: API keys, tokens (``jti``) and subjects.

How the gateway uses it::

    revocations = Revocations(FileRevocationStore(".apiward-revocations.json"))
    await revocations.start()                     # load, then follow the store
    await revocations.revoke("token", "4f1c...", until=token_exp, note="leaked in a ticket")
    reason = revocations.refusal(principal, api_key_schemes)   # per request: None or why

Three kinds, each checked against every part of a (possibly layered) principal:

- ``key``: an API key id. ``DELETE /keys/{id}`` records one, so a key revoked on one
  gateway is refused by all of them, whatever key file each has loaded;
- ``token``: a token id (the ``jti`` claim of a JWT or an introspection answer). Give it an
  ``until`` at the token's expiry: after that the token is refused anyway;
- ``subject``: credentials of that subject issued before the revocation (``iat`` earlier
  than the revocation's time) are refused: "sign this user out everywhere". Credentials
  without an issue time (API keys, client certificates, tokens without ``iat``) of that
  subject are refused for as long as the revocation lasts.

The store is Redis when ``gateway.redis`` is set (one hash, so one Cluster slot, with a
version counter in it) and a JSON file otherwise (written atomically, locked while it is
changed, so several processes on one machine share it). Each gateway keeps the whole list
in memory (the per-request check is a few dict lookups) and asks the store every
``poll_interval`` seconds whether it changed (one small read): a revocation reaches every
gateway within that time. A gateway that could not read the store for ``stale_after``
seconds no longer knows what was revoked meanwhile: with ``fail="closed"`` (the default)
it refuses authenticated requests (503) until the store answers again.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import math
import time
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, replace
from typing import Any, Literal, Protocol, cast

from apiward.errors import ApiwardError
from apiward.gateway.auth_common import Principal
from apiward.gateway.logs import get_logger

__all__ = [
    "KINDS",
    "Revocation",
    "RevocationError",
    "RevocationStore",
    "Revocations",
    "parse_revocation",
]

Kind = Literal["key", "token", "subject"]
KINDS: tuple[Kind, ...] = ("key", "token", "subject")
MAX_ID_LENGTH = 512
MAX_NOTE_LENGTH = 200
STALE = "revocation_state_unknown"
ABSENT = "absent"  # a store's version while it holds no list at all
# an issuer whose clock runs ahead stamps tokens minted just before a subject's revocation
# with a later iat; what was issued this soon after is refused too (the JWT leeway's size)
SUBJECT_LEEWAY = 30.0
log = get_logger("apiward.gateway.revocations")


class RevocationError(ApiwardError):
    """A revocation that is malformed, or a store that cannot be read or written."""


@dataclass(frozen=True, slots=True)
class Revocation:
    """``kind``/``value`` revoked at ``at`` (epoch seconds) until ``until`` (None: forever)."""

    kind: Kind
    value: str
    at: float
    until: float | None = None
    note: str = ""

    @property
    def field(self) -> str:
        return f"{self.kind}:{self.value}"

    def expired(self, now: float) -> bool:
        return self.until is not None and now >= self.until

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"kind": self.kind, "id": self.value, "at": self.at}
        if self.until is not None:
            out["until"] = self.until
        if self.note:
            out["note"] = self.note
        return out


def parse_revocation(
    data: Any, *, now: float, where: str = "revocation", stored: bool = False
) -> Revocation:
    """A revocation from JSON (``{"kind", "id", "until" | "expires_in", "note"}``).

    ``stored``: read back from the store, where ``at`` is recorded and ``until`` may have
    passed; a new one (the admin API) gets ``at`` = ``now`` and must end in the future.
    """
    if not isinstance(data, dict):
        raise RevocationError(f"{where}: a JSON object is expected")
    known = {"kind", "id", "until", "expires_in", "note"} | ({"at"} if stored else set())
    unknown = set(data) - known
    if unknown:
        raise RevocationError(f"{where}: unknown field(s) {', '.join(sorted(map(str, unknown)))}")
    kind = data.get("kind")
    if kind not in KINDS:
        raise RevocationError(f"{where}.kind: one of {', '.join(KINDS)}, got {kind!r}")
    value = data.get("id")
    if not isinstance(value, str) or not value or len(value) > MAX_ID_LENGTH:
        raise RevocationError(f"{where}.id: a string of 1 to {MAX_ID_LENGTH} characters")
    at = _seconds(data.get("at", now), f"{where}.at")
    until = data.get("until")
    expires_in = data.get("expires_in")
    if until is not None and expires_in is not None:
        raise RevocationError(f"{where}: give `until` or `expires_in`, not both")
    if expires_in is not None:
        seconds = _seconds(expires_in, f"{where}.expires_in")
        if seconds <= 0:
            raise RevocationError(f"{where}.expires_in: a positive number of seconds")
        until = now + seconds
    elif until is not None:
        until = _seconds(until, f"{where}.until")
        if not stored and until <= now:
            raise RevocationError(f"{where}.until: {until} is not in the future (epoch seconds)")
    note = data.get("note", "")
    if not isinstance(note, str) or len(note) > MAX_NOTE_LENGTH:
        raise RevocationError(f"{where}.note: a string of at most {MAX_NOTE_LENGTH} characters")
    return Revocation(cast(Kind, kind), value, at, until, note)


def _seconds(value: Any, where: str) -> float:
    try:
        ok = not isinstance(value, bool) and isinstance(value, int | float)
        number = float(value) if ok else math.nan
    except OverflowError:  # an integer too large for a float
        number = math.nan
    if not math.isfinite(number):
        raise RevocationError(f"{where}: a finite number of seconds, got {str(value)[:40]!r}")
    return number


class RevocationStore(Protocol):
    """Where revocations live: the file or Redis (see :mod:`.revocations_store`)."""

    name: str

    async def version(self) -> str:
        """Changes whenever the set of revocations changes (cheap: polled)."""
        ...

    async def load(self) -> tuple[str, list[Revocation]]:
        """The version and every revocation not expired (expired ones may be pruned)."""
        ...

    async def add(self, revocation: Revocation) -> None: ...

    async def remove(self, kind: Kind, value: str) -> bool: ...

    async def aclose(self) -> None: ...


class Revocations:
    """The gateway's view of the revocations, kept in step with a :class:`RevocationStore`."""

    def __init__(
        self,
        store: RevocationStore,
        *,
        poll_interval: float = 1.0,
        stale_after: float = 10.0,
        fail: Literal["closed", "open"] = "closed",
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.store = store
        self.poll_interval = poll_interval
        self.stale_after = stale_after
        self.fail = fail
        self._clock = clock
        self._entries: dict[tuple[str, str], Revocation] = {}
        self._version: str | None = None
        self._synced_at: float | None = None  # the last time the store answered
        self._task: asyncio.Task[None] | None = None
        self._last_error = ""
        # one change at a time: a poll's snapshot, a revoke, an unrevoke
        self._lock = asyncio.Lock()
        self._closing = False

    # -- the hot path ------------------------------------------------------------------

    def refusal(self, principal: Principal, api_key_schemes: Collection[str] = ()) -> str | None:
        """Why ``principal`` is refused (``key_revoked`` ...), or None.

        ``api_key_schemes``: the spec's ``apiKey`` scheme names, whose principals carry a
        ``key_id`` (a token's claims could carry one too, and must not match a key).
        """
        now = self._clock()
        if self.fail == "closed" and self._stale(now):
            return STALE
        entries = self._entries
        if not entries:
            return None
        for part in principal.parts or (principal,):
            claims = part.claims
            if part.scheme in api_key_schemes:
                hit = entries.get(("key", str(claims.get("key_id", ""))))
                if hit is not None and not hit.expired(now):
                    return "key_revoked"
            jti = claims.get("jti")
            if isinstance(jti, str) and jti:
                hit = entries.get(("token", jti))
                if hit is not None and not hit.expired(now):
                    return "token_revoked"
            if part.subject:
                hit = entries.get(("subject", part.subject))
                if (
                    hit is not None
                    and not hit.expired(now)
                    and _issued_before(claims, hit.at + SUBJECT_LEEWAY)
                ):
                    return "subject_revoked"
        return None

    def stale(self) -> bool:
        """True when the store has not answered for ``stale_after`` seconds (or ever)."""
        return self._stale(self._clock())

    def _stale(self, now: float) -> bool:
        synced = self._synced_at
        return synced is None or now - synced > self.stale_after

    # -- changes -----------------------------------------------------------------------

    async def revoke(
        self,
        kind: Kind,
        value: str,
        *,
        until: float | None = None,
        note: str = "",
        at: float | None = None,
    ) -> Revocation:
        """Record a revocation (as of ``at``, default now) in the store, and here at once."""
        now = self._clock()
        data = {"kind": kind, "id": value, "until": until, "note": note}
        revocation = parse_revocation(data, now=now)
        if at is not None:
            revocation = replace(revocation, at=at)
        async with self._lock:  # a poll in flight must not put back an older list
            await self.store.add(revocation)
            self._entries = {**self._entries, (kind, value): revocation}
        return revocation

    async def unrevoke(self, kind: Kind, value: str) -> bool:
        """Take a revocation back; False when there was none."""
        async with self._lock:
            removed = await self.store.remove(kind, value)
            entries = dict(self._entries)
            known = entries.pop((kind, value), None) is not None
            self._entries = entries
        return known or removed

    def entries(self) -> list[Revocation]:
        now = self._clock()
        return sorted((r for r in self._entries.values() if not r.expired(now)), key=lambda r: r.at)

    def status(self) -> dict[str, Any]:
        return {
            "store": self.store.name,
            "synced_at": self._synced_at,
            "stale": self.stale(),
            "error": self._last_error or None,
        }

    # -- following the store -----------------------------------------------------------

    async def start(self) -> None:
        """Load the store now (an error is logged and retried), then poll it."""
        if self._task is not None:
            return
        await self.sync()
        self._task = asyncio.create_task(self._follow(), name="apiward-revocations")

    async def sync(self) -> bool:
        """Bring the local list up to date; False if the store could not be read."""
        try:
            async with self._lock:
                version = await self.store.version()
                if version != self._version:
                    version, entries = await self.store.load()
                    if _lost(self._version, version):
                        entries, version = await self._restore(entries, version)
                    self._entries = {(r.kind, r.value): r for r in entries}
                    self._version = version
        except Exception as exc:  # the file's or redis-py's errors: keep the list, say so
            self._failed(exc)
            return False
        self._synced_at = self._clock()
        if self._last_error:
            log.info("revocations_store_back", store=self.store.name)
            self._last_error = ""
        return True

    async def _restore(
        self, entries: list[Revocation], version: str
    ) -> tuple[list[Revocation], str]:
        """The store lost its state (Redis restarted empty, the file deleted): refill it.

        Taking a revocation back is ``unrevoke``, which keeps the store's generation; a new
        generation means the list was lost, so what this gateway still knows goes back.
        """
        now = self._clock()
        there = {(r.kind, r.value) for r in entries}
        lost = [r for k, r in self._entries.items() if k not in there and not r.expired(now)]
        for revocation in lost:
            await self.store.add(revocation)
        if lost:
            log.warning("revocations_restored", store=self.store.name, count=len(lost))
            version = f"{_generation(await self.store.version())}:restored"  # reload next poll
        return entries + lost, version

    def _failed(self, exc: BaseException) -> None:
        detail = str(exc) or type(exc).__name__
        if detail != self._last_error:
            log.warning("revocations_store_unreadable", store=self.store.name, error=detail)
        self._last_error = detail

    async def _follow(self) -> None:
        # the flag, not only the cancel, ends the loop: a store's client may turn the
        # cancel into an error of its own (seen with redis-py mid-command), which sync()
        # reports and survives, and the gateway's stop then waited on this loop for ever
        while not self._closing:
            await asyncio.sleep(self.poll_interval)
            if not self._closing:
                await self.sync()

    async def aclose(self) -> None:
        self._closing = True
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        await self.store.aclose()


def _generation(version: str) -> str:
    """The part of a store's version that changes only when the store lost its state."""
    return version.split(":", 1)[0]


def _lost(seen: str | None, now: str) -> bool:
    """From a store that had a list (a generation) to none or another one."""
    if seen is None or seen == ABSENT:
        return False  # nothing was there to lose: a first list is simply loaded
    return _generation(now) != _generation(seen)


def _issued_before(claims: Mapping[str, Any], revoked_at: float) -> bool:
    iat = claims.get("iat")
    if isinstance(iat, bool) or not isinstance(iat, int | float):
        return True  # no issue time: refused for as long as the revocation lasts
    return iat < revoked_at


def dumps(revocations: list[Revocation]) -> str:
    """The file format: ``{"revocations": [...]}``."""
    return json.dumps({"revocations": [r.to_dict() for r in revocations]}, indent=1)
