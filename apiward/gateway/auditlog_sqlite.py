"""The audit log in SQLite (the default store): stdlib ``sqlite3`` on one dedicated thread.

WAL journal (readers such as ``apiward logs verify`` never block the writer) and
``synchronous=FULL``: one fsync per batch, which batching makes cheap.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TypeVar

from apiward.gateway.auditlog_record import (
    COLUMNS,
    GENESIS,
    AuditLogError,
    Row,
    VerifyResult,
    check_table_name,
    verify_rows,
)

__all__ = ["SqliteStore", "verify_sqlite"]

T = TypeVar("T")

_TYPES = {"seq": "INTEGER NOT NULL", "ts_ms": "INTEGER NOT NULL", "status": "INTEGER NOT NULL"}
_INTS = ("latency_us", "request_bytes", "response_bytes")


def _ddl(table: str) -> list[str]:
    cols = ",\n  ".join(
        f"{c} {_TYPES.get(c, 'INTEGER' if c in _INTS else 'TEXT')}" for c in COLUMNS
    )
    return [
        f'CREATE TABLE IF NOT EXISTS "{table}" (\n  {cols},\n  PRIMARY KEY (chain, seq)\n)',
        f'CREATE INDEX IF NOT EXISTS "{table}_ts" ON "{table}" (ts_ms)',
    ]


class SqliteStore:
    """An :class:`~apiward.gateway.auditlog_record.AuditStore` in a SQLite file."""

    def __init__(self, path: str | Path, *, table: str = "audit_log") -> None:
        self.path = Path(path)
        self.table = check_table_name(table)
        self._conn: sqlite3.Connection | None = None
        self._pool: ThreadPoolExecutor | None = None
        # S608: table names pass check_table_name (letters, digits, '_') and are quoted
        marks = ", ".join("?" * len(COLUMNS))
        self._insert = f'INSERT INTO "{table}" ({", ".join(COLUMNS)}) VALUES ({marks})'  # noqa: S608

    async def _call(self, fn: Callable[[], T]) -> T:
        if self._pool is None:
            # sqlite3 connections belong to one thread: one worker thread owns this one
            self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="apiward-audit")
        return await asyncio.get_running_loop().run_in_executor(self._pool, fn)

    def _connect(self) -> sqlite3.Connection:
        if self._conn is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            conn = sqlite3.connect(self.path, isolation_level=None, timeout=10.0)
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=FULL")
            for stmt in _ddl(self.table):
                conn.execute(stmt)
            self._conn = conn
        return self._conn

    async def open(self) -> None:
        try:
            await self._call(self._connect)
        except sqlite3.Error as e:
            raise AuditLogError(f"cannot open audit database {self.path}: {e}") from None

    async def tail(self, chain: str) -> tuple[int, str]:
        def run() -> tuple[int, str]:
            query = f'SELECT seq, hash FROM "{self.table}" WHERE chain = ?'  # noqa: S608
            row = self._connect().execute(f"{query} ORDER BY seq DESC LIMIT 1", (chain,)).fetchone()
            return (int(row[0]), str(row[1])) if row else (0, GENESIS)

        return await self._call(run)

    async def write(self, rows: Sequence[Row]) -> None:
        def run() -> None:
            conn = self._connect()
            conn.execute("BEGIN IMMEDIATE")
            try:
                conn.executemany(self._insert, rows)
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")

        await self._call(run)

    async def aclose(self) -> None:
        if self._pool is None:
            return
        conn, self._conn = self._conn, None
        if conn is not None:
            await self._call(conn.close)
        self._pool.shutdown(wait=True)
        self._pool = None


def _rows(conn: sqlite3.Connection, table: str) -> Iterator[Row]:
    query = f'SELECT {", ".join(COLUMNS)} FROM "{table}" ORDER BY chain, seq'  # noqa: S608
    yield from conn.execute(query)


def verify_sqlite(path: str | Path, *, table: str = "audit_log") -> VerifyResult:
    """Verify every chain in the SQLite audit log at ``path`` (read-only)."""
    check_table_name(table)
    if not Path(path).is_file():
        raise AuditLogError(f"no audit database at {path}")
    try:
        conn = sqlite3.connect(f"{Path(path).resolve().as_uri()}?mode=ro", uri=True)
    except sqlite3.Error as e:
        raise AuditLogError(f"cannot open audit database {path}: {e}") from None
    try:
        return verify_rows(_rows(conn, table))
    except sqlite3.Error as e:
        raise AuditLogError(f"cannot read audit table {table!r} in {path}: {e}") from None
    finally:
        conn.close()
