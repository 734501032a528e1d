"""The audit log in PostgreSQL: psycopg 3 async, one ``COPY`` per batch in one transaction.

A failed write drops the connection (its state is unknown) and the next call
reconnects, so the log's writer only has to retry. Every network step is bounded
by ``timeout`` so that a database that stops answering counts as down.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterator, Sequence
from typing import Any

import psycopg
from psycopg import sql

from apiward.gateway.auditlog_record import (
    COLUMNS,
    GENESIS,
    AuditLogError,
    Row,
    VerifyResult,
    check_table_name,
    verify_rows,
)

__all__ = ["PostgresStore", "verify_postgres"]

_TYPES = {
    "seq": "bigint NOT NULL",
    "chain": "text NOT NULL",
    "prev_hash": "text NOT NULL",
    "hash": "text NOT NULL",
    "ts_ms": "bigint NOT NULL",
    "status": "integer NOT NULL",
    "latency_us": "bigint",
    "request_bytes": "bigint",
    "response_bytes": "bigint",
}


def _ddl(table: str) -> list[sql.Composed]:
    cols = sql.SQL(", ").join(
        sql.SQL("{} {}").format(sql.Identifier(c), sql.SQL(_TYPES.get(c, "text"))) for c in COLUMNS
    )
    return [
        sql.SQL("CREATE TABLE IF NOT EXISTS {} ({}, PRIMARY KEY (chain, seq))").format(
            sql.Identifier(table), cols
        ),
        sql.SQL("CREATE INDEX IF NOT EXISTS {} ON {} (ts_ms)").format(
            sql.Identifier(f"{table}_ts"), sql.Identifier(table)
        ),
    ]


def _columns() -> sql.Composable:
    return sql.SQL(", ").join(sql.Identifier(c) for c in COLUMNS)


class PostgresStore:
    """An :class:`~apiward.gateway.auditlog_record.AuditStore` in a PostgreSQL table."""

    def __init__(self, dsn: str, *, table: str = "audit_log", timeout: float = 10.0) -> None:
        self.dsn = dsn
        self.table = check_table_name(table)
        self.timeout = timeout
        self._conn: psycopg.AsyncConnection[tuple[Any, ...]] | None = None
        self._created = False

    async def _connect(self) -> psycopg.AsyncConnection[tuple[Any, ...]]:
        if self._conn is not None and not self._conn.closed:
            return self._conn
        conn = await psycopg.AsyncConnection.connect(
            self.dsn, autocommit=True, connect_timeout=max(1, int(self.timeout))
        )
        if not self._created:
            # two writers may create the table at once: the loser's error is harmless
            try:
                async with conn.transaction():
                    for stmt in _ddl(self.table):
                        await conn.execute(stmt)
            except psycopg.errors.UniqueViolation:
                pass
            self._created = True
        self._conn = conn
        return conn

    async def _drop(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            with contextlib.suppress(psycopg.Error, OSError, TimeoutError):
                await asyncio.wait_for(conn.close(), self.timeout)

    async def open(self) -> None:
        try:
            await asyncio.wait_for(self._connect(), self.timeout)
        except (psycopg.Error, OSError, TimeoutError) as e:
            await self._drop()
            raise AuditLogError(f"cannot open the PostgreSQL audit log: {e}") from None

    async def tail(self, chain: str) -> tuple[int, str]:
        query = sql.SQL("SELECT seq, hash FROM {} WHERE chain = %s ORDER BY seq DESC LIMIT 1")

        async def run() -> tuple[int, str]:
            conn = await self._connect()
            cur = await conn.execute(query.format(sql.Identifier(self.table)), (chain,))
            row = await cur.fetchone()
            return (int(row[0]), str(row[1])) if row else (0, GENESIS)

        try:
            return await asyncio.wait_for(run(), self.timeout)
        except BaseException:
            await self._drop()
            raise

    async def write(self, rows: Sequence[Row]) -> None:
        copy_sql = sql.SQL("COPY {} ({}) FROM STDIN").format(sql.Identifier(self.table), _columns())

        async def run() -> None:
            conn = await self._connect()
            async with conn.transaction(), conn.cursor() as cur, cur.copy(copy_sql) as copy:
                for row in rows:
                    await copy.write_row(row)

        try:
            await asyncio.wait_for(run(), self.timeout)
        except BaseException:
            await self._drop()
            raise

    async def aclose(self) -> None:
        await self._drop()


def _rows(conn: psycopg.Connection[tuple[Any, ...]], table: str) -> Iterator[Row]:
    query = sql.SQL("SELECT {} FROM {} ORDER BY chain, seq").format(
        _columns(), sql.Identifier(table)
    )
    # a named (server-side) cursor streams a table of any size
    with conn.transaction(), conn.cursor(name="apiward_verify") as cur:
        cur.itersize = 5000
        cur.execute(query)
        yield from cur


def verify_postgres(dsn: str, *, table: str = "audit_log") -> VerifyResult:
    """Verify every chain in the PostgreSQL audit table (read-only)."""
    check_table_name(table)
    try:
        with psycopg.connect(dsn, connect_timeout=10) as conn:
            return verify_rows(_rows(conn, table))
    except psycopg.Error as e:
        raise AuditLogError(f"cannot read audit table {table!r} from PostgreSQL: {e}") from None
