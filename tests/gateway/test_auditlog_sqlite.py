"""The audit log on SQLite: batching, flush on close, tamper detection, spools, restarts."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Sequence
from pathlib import Path

import pytest

from apiward.gateway.auditlog import (
    AuditLog,
    AuditLogError,
    AuditRecord,
    SqliteStore,
    verify_sqlite,
)
from apiward.gateway.auditlog_record import Row


def rec(i: int) -> AuditRecord:
    return AuditRecord(
        request_id=f"r{i}",
        client_ip="127.0.0.1",
        method="GET",
        path=f"/accounts/{i}",
        operation="GET /accounts/{id}",
        identity="alice",
        decision="deny" if i % 7 == 0 else "allow",
        policy="bola" if i % 7 == 0 else None,
        status=403 if i % 7 == 0 else 200,
        latency_us=100 + i,
        request_bytes=10,
        response_bytes=96,
    )


def rows(db: Path, table: str = "audit_log") -> list[tuple[str, int, str]]:
    with sqlite3.connect(db) as conn:
        got = conn.execute(f"SELECT chain, seq, request_id FROM {table} ORDER BY chain, seq")
        return [(str(c), int(s), str(r)) for c, s, r in got]


async def write(db: Path, spool: Path, n: int, **kw: object) -> AuditLog:
    audit = AuditLog(SqliteStore(db), spool, **kw)  # type: ignore[arg-type]
    await audit.start()
    for i in range(n):
        audit.log(rec(i))
    await audit.aclose()
    return audit


def test_round_trip_in_batches_and_flush_on_close(tmp_path: Path) -> None:
    db = tmp_path / "audit.db"
    audit = asyncio.run(write(db, tmp_path / "spool", 1000, batch_size=100))
    # nothing ran while log() was called: close wrote the 1000 records, 100 a transaction
    assert (audit.stats.written, audit.stats.batches) == (1000, 10)
    got = rows(db)
    assert [s for _, s, _ in got] == list(range(1, 1001))
    assert [r for _, _, r in got] == [f"r{i}" for i in range(1000)]
    with sqlite3.connect(db) as conn:
        stored = conn.execute("SELECT path, decision, policy, status FROM audit_log WHERE seq=1")
        assert stored.fetchone() == ("/accounts/0", "deny", "bola", 403)
    result = verify_sqlite(db)
    assert result.ok and result.checked == 1000, result.message


def test_a_restart_continues_the_chain(tmp_path: Path) -> None:
    db = tmp_path / "audit.db"
    asyncio.run(write(db, tmp_path / "spool", 30))
    asyncio.run(write(db, tmp_path / "spool", 20))
    assert [s for _, s, _ in rows(db)] == list(range(1, 51))
    assert verify_sqlite(db).ok


def test_two_processes_write_two_chains_and_both_verify(tmp_path: Path) -> None:
    db = tmp_path / "audit.db"

    async def both() -> None:
        a = AuditLog(SqliteStore(db), tmp_path / "spool", chain="gw-1", flush_interval=0.01)
        b = AuditLog(SqliteStore(db), tmp_path / "spool", chain="gw-2", flush_interval=0.01)
        await a.start()
        await b.start()
        for i in range(300):
            (a if i % 2 else b).log(rec(i))
            if i % 50 == 0:
                await asyncio.sleep(0.01)
        await asyncio.gather(a.aclose(), b.aclose())

    asyncio.run(both())
    result = verify_sqlite(db)
    assert result.ok and result.checked == 300
    assert {c: h[0] for c, h in result.heads.items()} == {"gw-1": 150, "gw-2": 150}


TAMPERS = {
    "edit a column": (["UPDATE audit_log SET status = 200 WHERE seq = 8"], 8),
    "query into the path": (["UPDATE audit_log SET path = path || '?k=1' WHERE seq = 5"], 5),
    "delete one": (["DELETE FROM audit_log WHERE seq = 6"], 6),
    "delete the first": (["DELETE FROM audit_log WHERE seq = 1"], 1),
    "swap two rows": (
        [
            "UPDATE audit_log SET seq = -1 WHERE seq = 3",
            "UPDATE audit_log SET seq = 3 WHERE seq = 9",
            "UPDATE audit_log SET seq = 9 WHERE seq = -1",
        ],
        3,
    ),
}


@pytest.mark.parametrize("name", list(TAMPERS))
def test_tampering_is_detected_at_the_first_bad_seq(tmp_path: Path, name: str) -> None:
    db = tmp_path / "audit.db"
    asyncio.run(write(db, tmp_path / "spool", 12))
    statements, bad_seq = TAMPERS[name]
    with sqlite3.connect(db) as conn:
        for stmt in statements:
            conn.execute(stmt)
    result = verify_sqlite(db)
    assert not result.ok
    assert result.first_bad_seq == bad_seq, result.message
    assert f"first bad seq {bad_seq}" in result.message


def test_swapping_the_contents_of_two_rows_is_detected(tmp_path: Path) -> None:
    db = tmp_path / "audit.db"
    asyncio.run(write(db, tmp_path / "spool", 12))
    with sqlite3.connect(db) as conn:
        a = conn.execute("SELECT request_id, path FROM audit_log WHERE seq = 4").fetchone()
        b = conn.execute("SELECT request_id, path FROM audit_log WHERE seq = 10").fetchone()
        conn.execute("UPDATE audit_log SET request_id=?, path=? WHERE seq = 4", b)
        conn.execute("UPDATE audit_log SET request_id=?, path=? WHERE seq = 10", a)
    assert verify_sqlite(db).first_bad_seq == 4


def test_a_full_queue_spills_to_the_spool_in_order(tmp_path: Path) -> None:
    db = tmp_path / "audit.db"
    audit = asyncio.run(write(db, tmp_path / "spool", 500, max_queue=10, batch_size=64))
    assert audit.stats.overflowed == 490
    assert [r for _, _, r in rows(db)] == [f"r{i}" for i in range(500)]
    assert verify_sqlite(db).ok
    assert (tmp_path / "spool" / "main.overflow.ndjson").stat().st_size == 0


class FailingStore(SqliteStore):
    """A real SQLite store whose writes fail on demand, after or before committing."""

    def __init__(self, path: Path, fail: int, *, after_commit: bool) -> None:
        super().__init__(path)
        self.fail = fail
        self.after_commit = after_commit

    async def write(self, rows: Sequence[Row]) -> None:
        if self.fail and not self.after_commit:
            self.fail -= 1
            raise sqlite3.OperationalError("database is locked (test)")
        await super().write(rows)
        if self.fail:
            self.fail -= 1
            raise sqlite3.OperationalError("connection lost after commit (test)")


@pytest.mark.parametrize("after_commit", [False, True], ids=["refused", "commit-in-doubt"])
def test_failed_writes_are_spooled_and_replayed_exactly_once(
    tmp_path: Path, after_commit: bool
) -> None:
    db = tmp_path / "audit.db"
    errors: list[BaseException] = []

    async def run() -> AuditLog:
        store = FailingStore(db, 3, after_commit=after_commit)
        audit = AuditLog(
            store, tmp_path / "spool", batch_size=20, retry_initial=0.001, on_error=errors.append
        )
        await audit.start()
        for i in range(200):
            audit.log(rec(i))
            if i % 20 == 0:
                await asyncio.sleep(0)
        await audit.aclose()
        return audit

    audit = asyncio.run(run())
    assert audit.stats.store_failures >= 3 and audit.stats.spooled > 0
    assert len(errors) == audit.stats.store_failures
    assert [r for _, _, r in rows(db)] == [f"r{i}" for i in range(200)]
    assert verify_sqlite(db).ok


def test_rows_spooled_at_close_are_replayed_by_the_next_start(tmp_path: Path) -> None:
    db = tmp_path / "audit.db"
    first = asyncio.run(_down_at_close(db, tmp_path / "spool"))
    assert first.stats.spooled == 50 and rows(db) == []
    asyncio.run(write(db, tmp_path / "spool", 0))
    assert [s for _, s, _ in rows(db)] == list(range(1, 51))
    assert verify_sqlite(db).ok


async def _down_at_close(db: Path, spool: Path) -> AuditLog:
    audit = AuditLog(FailingStore(db, 10**6, after_commit=False), spool, close_timeout=0.05)
    await audit.start()
    for i in range(50):
        audit.log(rec(i))
    await audit.aclose()
    return audit


def test_when_even_the_spool_fails_the_error_is_loud(tmp_path: Path) -> None:
    not_a_dir = tmp_path / "spool"
    errors: list[BaseException] = []

    async def run() -> AuditLog:
        store = FailingStore(tmp_path / "a.db", 10**6, after_commit=False)
        audit = AuditLog(store, not_a_dir, close_timeout=0.05, on_error=errors.append)
        not_a_dir.write_text("the disk went bad")
        await audit.start()
        for i in range(5):
            audit.log(rec(i))
        with pytest.raises(AuditLogError, match="neither stored nor spooled"):
            await audit.aclose()
        return audit

    audit = asyncio.run(run())
    assert audit.stats.spool_failures > 0
    assert any("cannot write audit spool" in str(e) for e in errors)


def test_log_raises_when_it_can_neither_queue_nor_spill(tmp_path: Path) -> None:
    not_a_dir = tmp_path / "spool"

    async def run() -> None:
        audit = AuditLog(SqliteStore(tmp_path / "a.db"), not_a_dir, max_queue=3)
        not_a_dir.write_text("the disk went bad")
        for i in range(3):
            audit.log(rec(i))
        with pytest.raises(AuditLogError, match="overflow spool"):
            audit.log(rec(3))
        assert audit.stats.logged == 3
        await audit.aclose()  # the three it accepted are stored

    asyncio.run(run())
    assert len(rows(tmp_path / "a.db")) == 3


def test_an_unreadable_spool_is_refused_at_construction(tmp_path: Path) -> None:
    (tmp_path / "spool").write_text("not a directory")
    with pytest.raises(AuditLogError, match="cannot read audit spool"):
        AuditLog(SqliteStore(tmp_path / "a.db"), tmp_path / "spool")


def test_verify_names_a_missing_database(tmp_path: Path) -> None:
    with pytest.raises(AuditLogError, match="no audit database"):
        verify_sqlite(tmp_path / "nope.db")
