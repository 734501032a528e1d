"""``apiward logs verify`` on a real SQLite audit log, then on a tampered one."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path
from typing import Any

from tests.gateway.test_auditlog_sqlite import write


def test_verify_passes_then_names_the_edited_record(cli: Any, tmp_path: Path) -> None:
    db = tmp_path / "audit.db"
    asyncio.run(write(db, tmp_path / "spool", 50))
    result = cli("logs", "verify", str(db))
    assert result.code == 0, result.err
    with sqlite3.connect(db) as conn:
        conn.execute("UPDATE audit_log SET status = 599 WHERE seq = 7")
    result = cli("logs", "verify", str(db))
    assert result.code == 1
    assert "7" in result.out


def test_a_missing_log_is_an_input_error(cli: Any, tmp_path: Path) -> None:
    result = cli("logs", "verify", str(tmp_path / "nope.db"))
    assert result.code == 2 and "no audit database" in result.err
    assert "Traceback" not in result.err
