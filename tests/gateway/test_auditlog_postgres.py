"""The audit log on a real PostgreSQL, including an outage mid-stream through a cuttable proxy.

The shared server is never stopped: a TCP proxy on 127.0.0.1 sits in front of it,
and "the database goes down" is the proxy aborting every connection and refusing
new ones until it is restored.
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from apiward.gateway.auditlog import (
    AuditLog,
    AuditLogError,
    AuditRecord,
    PostgresStore,
    verify_postgres,
)

DSN = "host=127.0.0.1 port=5432 dbname=test user=postgres"


def _reachable() -> bool:
    try:
        with psycopg.connect(DSN, connect_timeout=3):
            return True
    except psycopg.Error:
        return False


pytestmark = pytest.mark.skipif(
    not _reachable(), reason="PostgreSQL is not reachable at 127.0.0.1:5432 (db test)"
)


@pytest.fixture
def table() -> Iterator[str]:
    name = f"audit_t_{uuid.uuid4().hex[:12]}"
    yield name
    with psycopg.connect(DSN, autocommit=True) as conn:
        conn.execute(f"DROP TABLE IF EXISTS {name}")


def rec(i: int | str) -> AuditRecord:
    return AuditRecord(
        request_id=f"r{i}",
        client_ip="127.0.0.1",
        method="POST",
        path="/transfers",
        operation="POST /transfers",
        identity="bob",
        decision="allow",
        status=201,
        latency_us=900,
    )


def stored(table: str) -> list[tuple[int, str]]:
    with psycopg.connect(DSN) as conn:
        cur = conn.execute(f"SELECT seq, request_id FROM {table} ORDER BY seq")
        return [(int(s), str(r)) for s, r in cur.fetchall()]


class CuttableProxy:
    """A TCP relay to the real PostgreSQL that can be cut (connections aborted, port closed)."""

    def __init__(self) -> None:
        self.port = 0
        self._server: asyncio.Server | None = None
        self._transports: set[asyncio.WriteTransport] = set()
        self._up = False
        self._relays: set[asyncio.Task[None]] = set()

    @property
    def dsn(self) -> str:
        return f"host=127.0.0.1 port={self.port} dbname=test user=postgres"

    async def restore(self) -> None:
        self._up = True
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", self.port)
        self.port = self._server.sockets[0].getsockname()[1]

    async def cut(self) -> None:
        assert self._server is not None
        self._up = False
        self._server.close()
        for t in self._transports:
            t.abort()
        self._transports.clear()
        await self._server.wait_closed()
        # let every relay see its aborted sockets and end, so none is cancelled at loop close
        await asyncio.gather(*self._relays, return_exceptions=True)

    async def _serve(self, cr: asyncio.StreamReader, cw: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._relays.add(task)
        task.add_done_callback(self._relays.discard)
        try:
            ur, uw = await asyncio.open_connection("127.0.0.1", 5432)
        except OSError:
            cw.transport.abort()
            return
        if not self._up:  # cut while this connection was being set up
            cw.transport.abort()
            uw.transport.abort()
            return
        self._transports |= {cw.transport, uw.transport}

        async def pipe(r: asyncio.StreamReader, w: asyncio.StreamWriter) -> None:
            with contextlib.suppress(OSError):
                while data := await r.read(65536):
                    w.write(data)
                    await w.drain()
            w.transport.abort()

        await asyncio.gather(pipe(cr, uw), pipe(ur, cw))


async def _until(cond: object, tries: int = 500) -> None:
    """Yield to the loop until ``cond()`` holds, at most ``tries`` times (no timed assertion)."""
    for _ in range(tries):
        if cond():  # type: ignore[operator]
            return
        await asyncio.sleep(0.01)


def test_round_trip_and_verify(tmp_path: Path, table: str) -> None:
    async def run() -> AuditLog:
        audit = AuditLog(PostgresStore(DSN, table=table), tmp_path / "spool", batch_size=100)
        await audit.start()
        for i in range(1000):
            audit.log(rec(i))
        await audit.aclose()
        return audit

    audit = asyncio.run(run())
    assert (audit.stats.written, audit.stats.batches) == (1000, 10)
    assert stored(table) == [(i + 1, f"r{i}") for i in range(1000)]
    result = verify_postgres(DSN, table=table)
    assert result.ok and result.checked == 1000, result.message


TAMPERS = {
    "edit": (["UPDATE {t} SET status = 500 WHERE seq = 7"], 7),
    "delete": (["DELETE FROM {t} WHERE seq = 4"], 4),
    "swap": (
        [
            "UPDATE {t} SET seq = -1 WHERE seq = 2",
            "UPDATE {t} SET seq = 2 WHERE seq = 9",
            "UPDATE {t} SET seq = 9 WHERE seq = -1",
        ],
        2,
    ),
    "swap contents": (
        [
            "UPDATE {t} AS a SET request_id = b.request_id FROM {t} AS b"
            " WHERE (a.seq, b.seq) IN ((5, 10), (10, 5))"
        ],
        5,
    ),
}


@pytest.mark.parametrize("name", list(TAMPERS))
def test_tampering_is_detected(tmp_path: Path, table: str, name: str) -> None:
    async def run() -> None:
        async with AuditLog(PostgresStore(DSN, table=table), tmp_path / "spool") as audit:
            for i in range(12):
                audit.log(rec(i))

    asyncio.run(run())
    statements, bad_seq = TAMPERS[name]
    with psycopg.connect(DSN, autocommit=True) as conn:
        for stmt in statements:
            conn.execute(stmt.format(t=table))  # type: ignore[arg-type]
    result = verify_postgres(DSN, table=table)
    assert not result.ok and result.first_bad_seq == bad_seq, result.message


def test_postgres_outage_mid_stream_loses_nothing(tmp_path: Path, table: str) -> None:
    """THE BAR: 2,000 records from 20 concurrent clients; the database is cut mid-stream."""
    clients, each = 20, 100
    proxy = CuttableProxy()

    async def run() -> AuditLog:
        await proxy.restore()
        store = PostgresStore(proxy.dsn, table=table, timeout=3.0)
        audit = AuditLog(
            store,
            tmp_path / "spool",
            batch_size=50,
            flush_interval=0.01,
            max_queue=200,
            retry_initial=0.01,
            retry_max=0.1,
        )
        await audit.start()

        async def client(k: int) -> None:
            for i in range(each):
                audit.log(rec(f"{k}-{i}"))
                await asyncio.sleep(0.001)

        async def chaos() -> None:
            await _until(lambda: audit.stats.logged >= 500 and audit.stats.written > 0)
            await proxy.cut()
            await _until(lambda: audit.stats.store_failures > 0 and audit.stats.logged >= 1200)
            await proxy.restore()

        await asyncio.gather(chaos(), *(client(k) for k in range(clients)))
        await audit.aclose()
        await proxy.cut()
        return audit

    audit = asyncio.run(run())
    rows = stored(table)
    assert len(rows) == clients * each == audit.stats.logged
    assert [s for s, _ in rows] == list(range(1, clients * each + 1))
    assert {r for _, r in rows} == {f"r{k}-{i}" for k in range(clients) for i in range(each)}
    assert audit.stats.store_failures > 0 and audit.stats.spooled > 0
    # a batch cut after its COMMIT reached the server is in the spool too: replay skips it
    assert audit.stats.replayed + audit.stats.already_stored == audit.stats.spooled
    result = verify_postgres(DSN, table=table)
    assert result.ok and result.checked == clients * each, result.message
    assert not any((tmp_path / "spool").glob("*.tmp"))
    assert all(p.stat().st_size == 0 for p in (tmp_path / "spool").iterdir())


def test_down_at_start_then_back_loses_nothing(tmp_path: Path, table: str) -> None:
    proxy = CuttableProxy()

    async def run() -> AuditLog:
        await proxy.restore()
        await proxy.cut()  # the port is known, nothing listens
        audit = AuditLog(
            PostgresStore(proxy.dsn, table=table, timeout=2.0),
            tmp_path / "spool",
            max_queue=50,
            retry_initial=0.01,
            retry_max=0.05,
        )
        await audit.start()
        for i in range(300):
            audit.log(rec(i))
        await _until(lambda: audit.stats.store_failures > 0)
        await proxy.restore()
        await audit.aclose()
        await proxy.cut()
        return audit

    audit = asyncio.run(run())
    assert audit.stats.overflowed == 250
    assert stored(table) == [(i + 1, f"r{i}") for i in range(300)]
    assert verify_postgres(DSN, table=table).ok


def test_spooled_rows_survive_a_restart(tmp_path: Path, table: str) -> None:
    proxy = CuttableProxy()
    spool = tmp_path / "spool"

    async def first() -> AuditLog:
        await proxy.restore()
        audit = AuditLog(
            PostgresStore(proxy.dsn, table=table, timeout=2.0),
            spool,
            close_timeout=0.2,
            retry_initial=0.01,
        )
        await audit.start()
        for i in range(100):
            audit.log(rec(i))
        assert await audit.flush(timeout=30)
        await proxy.cut()
        for i in range(100, 250):
            audit.log(rec(i))
        await audit.aclose()  # the database stays down: rows stay spooled, chained
        return audit

    async def second() -> None:
        await proxy.restore()
        async with AuditLog(PostgresStore(proxy.dsn, table=table), spool) as audit:
            audit.log(rec(250))
        await proxy.cut()

    before = asyncio.run(first())
    assert before.stats.spooled == 150 and len(stored(table)) == 100
    asyncio.run(second())
    assert stored(table) == [(i + 1, f"r{i}") for i in range(251)]
    assert verify_postgres(DSN, table=table).ok


def test_verify_names_a_missing_table() -> None:
    with pytest.raises(AuditLogError, match="audit_t_missing"):
        verify_postgres(DSN, table="audit_t_missing")


def test_down_from_start_to_close_then_a_restart_stores_all_in_order(
    tmp_path: Path, table: str
) -> None:
    proxy = CuttableProxy()
    spool = tmp_path / "spool"

    async def first() -> AuditLog:
        await proxy.restore()
        await proxy.cut()
        audit = AuditLog(
            PostgresStore(proxy.dsn, table=table, timeout=2.0),
            spool,
            max_queue=40,
            close_timeout=0.1,
            retry_initial=0.01,
        )
        await audit.start()
        for i in range(100):
            audit.log(rec(i))
        await audit.aclose()  # never chained: the queue goes to disk ahead of the overflow
        return audit

    async def second() -> None:
        await proxy.restore()
        async with AuditLog(PostgresStore(proxy.dsn, table=table), spool) as audit:
            audit.log(rec(100))
        await proxy.cut()

    assert asyncio.run(first()).stats.written == 0
    asyncio.run(second())
    assert stored(table) == [(i + 1, f"r{i}") for i in range(101)]
    assert verify_postgres(DSN, table=table).ok
