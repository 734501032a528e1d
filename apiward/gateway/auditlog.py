"""The gateway's audit log: one record per request, hash-chained, written in batches, never lost.

How the gateway uses it::

    audit = AuditLog(SqliteStore("audit.db"), spool_dir="audit-spool", chain="gw-1")
    await audit.start()                       # at startup, inside the event loop
    audit.log(AuditRecord(request_id=..., client_ip=..., method="GET", path="/accounts/7",
                          operation="GET /accounts/{id}", decision="deny", policy="jwt",
                          status=401, latency_us=830, reason="token expired"))
    await audit.aclose()                      # graceful shutdown: everything stored or spooled

``log()`` only appends to an in-memory queue (well under a microsecond; it must be
called from the event loop's thread). A background task takes records in order,
chains them (seq, prev_hash, hash; see :mod:`.auditlog_record`) and writes each
batch in one transaction, when ``batch_size`` records wait or every
``flush_interval`` seconds.

Nothing is dropped:

- queue full (``max_queue``): ``log()`` appends the record to the overflow spool
  file instead, and keeps doing so until the writer has read that file back;
- store down: the chained batch is appended (fsync'd) to the row spool; later
  batches follow it there, and the spool is replayed in order, with exponential
  backoff, before anything new. A batch whose commit was in doubt is recognised
  by its seq on replay, so it is never stored twice;
- store down at start: records wait unchained (queue, then overflow spool) until
  the chain's tail can be read; the spools are replayed by the next ``start()``
  if the process stops first;
- even the spool unwritable: rows stay in memory, ``stats.spool_failures`` counts,
  ``on_error`` is called and the error logged; ``log()`` itself raises
  :class:`AuditLogError` when it cannot even spill, so the gateway can fail closed.

Call ``aclose()`` once the server has drained its requests: ``log()`` raises after it.
One writer per chain: several gateway processes each use their own ``chain`` id
(and spool directory or file names follow it); ``verify_*`` checks every chain.
A crash while the overflow spool is being read back may store those records
twice (at least once, never lost).
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

from apiward.gateway.auditlog_postgres import PostgresStore, verify_postgres
from apiward.gateway.auditlog_record import (
    AuditLogError,
    AuditRecord,
    AuditStore,
    ChainStatus,
    Row,
    VerifyResult,
    chain_rows,
    verify_rows,
)
from apiward.gateway.auditlog_spool import RecordSpool, RowSpool
from apiward.gateway.auditlog_sqlite import SqliteStore, verify_sqlite

__all__ = [
    "AuditLog",
    "AuditLogError",
    "AuditRecord",
    "AuditStats",
    "AuditStore",
    "ChainStatus",
    "PostgresStore",
    "SqliteStore",
    "VerifyResult",
    "verify_postgres",
    "verify_rows",
    "verify_sqlite",
]

log = logging.getLogger("apiward.gateway.auditlog")

_CHAIN_SLICE = 64  # records chained between two yields to the event loop (well under 1 ms)


@dataclass
class AuditStats:
    """Counters for metrics; read them, do not write them."""

    logged: int = 0  # records accepted by log()
    written: int = 0  # rows committed to the store (replays included)
    batches: int = 0  # write transactions committed
    overflowed: int = 0  # records spilled to the overflow spool because the queue was full
    spooled: int = 0  # rows put in the row spool because the store failed
    replayed: int = 0  # spooled rows later committed to the store
    already_stored: int = 0  # spooled rows whose commit had succeeded after all (skipped)
    store_failures: int = 0
    spool_failures: int = 0
    last_error: str | None = None


class AuditLog:
    """Asynchronous, batched, hash-chained audit log in front of one :class:`AuditStore`."""

    def __init__(
        self,
        store: AuditStore,
        spool_dir: str | Path,
        *,
        chain: str = "main",
        batch_size: int = 500,
        flush_interval: float = 0.2,
        max_queue: int = 20_000,
        retry_initial: float = 0.05,
        retry_max: float = 5.0,
        close_timeout: float = 30.0,
        on_error: Callable[[BaseException], None] | None = None,
    ) -> None:
        if not chain or not chain.replace("-", "_").replace(".", "_").isidentifier():
            raise AuditLogError(f"audit chain id {chain!r} must be letters, digits, '-', '.', '_'")
        if batch_size < 1 or max_queue < 1:
            raise AuditLogError("audit batch_size and max_queue must be at least 1")
        self.store = store
        self.chain = chain
        self.batch_size = batch_size
        self.flush_interval = flush_interval
        self.max_queue = max_queue
        self.retry_initial = retry_initial
        self.retry_max = retry_max
        self.close_timeout = close_timeout
        self.on_error = on_error
        self.stats = AuditStats()
        spool = Path(spool_dir)
        self._rows = RowSpool(spool / f"{chain}.rows.ndjson")
        self._overflow = RecordSpool(spool / f"{chain}.overflow.ndjson")
        self._queue: deque[AuditRecord] = deque()
        self._overflowing = bool(self._overflow)
        self._stuck: list[Row] = []  # chained rows neither the store nor the spool took
        self._tail: tuple[int, str] | None = None
        self._stored_seq = 0  # the last seq this process knows is committed
        self._retry_at = 0.0
        self._backoff = retry_initial
        self._outage = False
        self._wake = asyncio.Event()
        self._idle = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._closing = False
        self._closed = False

    # -- the hot path ------------------------------------------------------------------

    def log(self, record: AuditRecord) -> None:
        """Queue one record (never blocks; spills to disk when the queue is full)."""
        if self._closing:
            raise AuditLogError("audit log is closed: record not accepted")
        self.stats.logged += 1
        if not self._overflowing and len(self._queue) < self.max_queue:
            self._queue.append(record)
            if len(self._queue) >= self.batch_size:
                self._wake.set()
            return
        try:
            self._overflow.append(record)
        except AuditLogError as e:
            self.stats.logged -= 1
            self._spool_failed(e)
            raise
        self._overflowing = True
        self.stats.overflowed += 1
        self._wake.set()

    @property
    def pending(self) -> int:
        """Records not yet in the store: queued, overflowed, spooled or stuck."""
        return len(self._queue) + self._overflow.count + self._rows.count + len(self._stuck)

    # -- life cycle ----------------------------------------------------------------------

    async def start(self) -> None:
        """Start the writer. A store that is down now is retried in the background."""
        if self._task is not None:
            return
        self._task = asyncio.create_task(self._run(), name=f"apiward-audit-{self.chain}")

    async def flush(self, timeout: float | None = None) -> bool:
        """Wait until every record logged so far is in the store; False on ``timeout``."""
        if self._task is None:
            await self.start()
        self._idle.clear()
        self._wake.set()
        try:
            async with asyncio.timeout(timeout):
                while self.pending:
                    self._idle.clear()
                    self._wake.set()
                    await self._idle.wait()
        except TimeoutError:
            return False
        return True

    async def aclose(self) -> None:
        """Store everything (or leave it spooled if the store stays down), then stop.

        Raises :class:`AuditLogError` if records could be kept neither in the store nor on disk.
        """
        if self._closed:
            return
        self._closing = True
        if self._task is None:
            self._task = asyncio.create_task(self._run())
        self._wake.set()
        try:
            await self._task
        finally:
            self._closed = True
            self._overflow.close()
            await self.store.aclose()
        if self._stuck or self._queue:
            raise AuditLogError(
                f"audit log closed with {len(self._stuck) + len(self._queue)} records "
                f"neither stored nor spooled: {self.stats.last_error}"
            )

    async def __aenter__(self) -> AuditLog:
        await self.start()
        return self

    async def __aexit__(
        self, et: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.aclose()

    # -- the writer ----------------------------------------------------------------------

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        deadline: float | None = None
        while True:
            if self._closing and deadline is None:
                deadline = loop.time() + self.close_timeout
            try:
                await self._pump(loop)
            except Exception as e:  # a bug here must not stop auditing for good
                log.exception("audit log writer failed; retrying")
                self._report(e)
                self._schedule_retry(loop)
            if not self.pending:
                self._idle.set()
                if self._closing:
                    return
            if deadline is not None and loop.time() >= deadline:
                self._give_up_on_close()
                return
            wait = self.flush_interval
            if self._closing:  # only retries are left to do: wait for the next one
                wait = max(0.01, min(wait, self._retry_at - loop.time()))
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), wait)
            self._wake.clear()

    async def _pump(self, loop: asyncio.AbstractEventLoop) -> None:
        """Move as many records as possible along: queue -> chain -> store, or spool."""
        if self._tail is None and not await self._resolve_tail(loop):
            return
        while True:
            if self._rows or self._stuck:
                if loop.time() >= self._retry_at and await self._replay(loop):
                    continue
                records = self._take()
                if not records:
                    return
                await self._park(await self._chain(records))
                continue
            records = self._take()
            if not records:
                return
            rows = await self._chain(records)
            try:
                await self.store.write(rows)
            except Exception as e:
                self._store_failed(e, loop)
                await self._park(rows)
            else:
                self._stored_seq = rows[-1][1]
                self.stats.written += len(rows)
                self.stats.batches += 1
                self._overflow.commit()
                self._recovered()

    async def _resolve_tail(self, loop: asyncio.AbstractEventLoop) -> bool:
        """Learn where the chain ends: the row spool's last row, else the store's."""
        if loop.time() < self._retry_at:
            return False
        try:
            last = self._rows.last()
        except AuditLogError as e:
            self._spool_failed(e)
            self._schedule_retry(loop)
            return False
        try:
            if last is None:
                await self.store.open()
                last = await self.store.tail(self.chain)
        except Exception as e:
            self._store_failed(e, loop)
            return False
        self._tail = last
        return True

    def _take(self) -> list[AuditRecord]:
        queue, n = self._queue, self.batch_size
        out = [queue.popleft() for _ in range(min(n, len(queue)))]
        if not out and self._overflowing:
            out = self._overflow.take(n)
            if not self._overflow:
                self._overflowing = False  # no await since take(): no record can slip between
        return out

    def _chain_now(self, records: list[AuditRecord]) -> list[Row]:
        assert self._tail is not None
        rows, seq, digest = chain_rows(self.chain, *self._tail, records)
        self._tail = (seq, digest)
        return rows

    async def _chain(self, records: list[AuditRecord]) -> list[Row]:
        """Chain in slices, yielding between them: ~10 µs a record must not stall requests."""
        rows: list[Row] = []
        for i in range(0, len(records), _CHAIN_SLICE):
            if i:
                await asyncio.sleep(0)
            rows += self._chain_now(records[i : i + _CHAIN_SLICE])
        return rows

    async def _park(self, rows: list[Row]) -> None:
        """Put rows the store did not take in the row spool (fsync'd off the event loop)."""
        self._stuck.extend(rows)
        try:
            await asyncio.to_thread(self._rows.append, self._stuck)
        except AuditLogError as e:
            self._spool_failed(e)
            return
        self._spooled(len(self._stuck))

    def _park_now(self, rows: list[Row]) -> None:
        self._stuck.extend(rows)
        try:
            self._rows.append(self._stuck)
        except AuditLogError as e:
            self._spool_failed(e)
            return
        self._spooled(len(self._stuck))

    def _spooled(self, count: int) -> None:
        self.stats.spooled += count
        self._stuck = []
        self._overflow.commit()

    async def _replay(self, loop: asyncio.AbstractEventLoop) -> bool:
        """Write the row spool (then stuck rows) to the store, skipping rows already there."""
        try:
            await self.store.open()
            seq, digest = await self.store.tail(self.chain)
            n = self.batch_size
            stuck = [self._stuck[i : i + n] for i in range(0, len(self._stuck), n)]
            for batch in itertools.chain(self._rows.batches(n), stuck):
                fresh = _after(self.chain, batch, seq, digest)
                skipped = sum(1 for row in batch if self._stored_seq < row[1] <= seq)
                self.stats.already_stored += skipped
                if fresh:
                    await self.store.write(fresh)
                    seq, digest = fresh[-1][1], fresh[-1][3]
                    self._stored_seq = seq
                    self.stats.written += len(fresh)
                    self.stats.batches += 1
                    self.stats.replayed += len(fresh)
        except AuditLogError as e:  # a forked chain or an unreadable spool: not a mere outage
            self.stats.store_failures += 1
            log.error("AUDIT SPOOL CANNOT BE REPLAYED (kept on disk): %s", e)
            self._report(e)
            self._schedule_retry(loop)
            return False
        except Exception as e:
            self._store_failed(e, loop)
            return False
        await asyncio.to_thread(self._rows.clear)
        self._stuck = []
        self._recovered()
        return True

    # -- failures ------------------------------------------------------------------------

    def _report(self, e: BaseException) -> None:
        self.stats.last_error = f"{type(e).__name__}: {e}"
        if self.on_error is not None:
            try:
                self.on_error(e)
            except Exception:
                log.exception("audit log on_error callback failed")

    def _store_failed(self, e: BaseException, loop: asyncio.AbstractEventLoop) -> None:
        self.stats.store_failures += 1
        if not self._outage:
            log.warning("audit store unavailable, spooling to disk: %s", e)
        self._outage = True
        self._report(e)
        self._schedule_retry(loop)

    def _recovered(self) -> None:
        if self._outage:
            log.warning("audit store is back; spooled records replayed")
        self._outage = False
        self._backoff = self.retry_initial

    def _schedule_retry(self, loop: asyncio.AbstractEventLoop) -> None:
        self._retry_at = loop.time() + self._backoff
        self._backoff = min(self.retry_max, self._backoff * 2)

    def _spool_failed(self, e: AuditLogError) -> None:
        self.stats.spool_failures += 1
        log.error("AUDIT RECORDS AT RISK: %s", e)
        self._report(e)

    def _give_up_on_close(self) -> None:
        """Close-time: the store stays down; make sure every record is at least on disk."""
        if self._tail is None and self._queue:
            try:
                self._overflow.prepend(list(self._queue))
                self._queue.clear()
            except AuditLogError as e:
                self._spool_failed(e)
        elif self._tail is not None:
            while self._queue:
                self._park_now(self._chain_now(self._take()))
                if self._stuck:
                    break
        if not self._stuck and not self._queue:
            log.warning("audit log closed with %d records spooled for the next start", self.pending)


def _after(chain: str, batch: list[Row], seq: int, digest: str) -> list[Row]:
    """The rows of ``batch`` the store does not have yet, checking they continue its chain."""
    fresh = [row for row in batch if row[1] > seq]
    for row in batch:
        if row[1] == seq and row[3] != digest:
            raise AuditLogError(
                f"audit chain {chain!r} forked at seq {seq}: another writer uses this chain id"
            )
    if fresh and (fresh[0][1] != seq + 1 or fresh[0][2] != digest):
        raise AuditLogError(
            f"audit chain {chain!r}: spooled seq {fresh[0][1]} does not follow stored seq {seq}"
        )
    return fresh
