"""On-disk spools of the audit log: NDJSON files that hold what the database cannot take yet.

Two files per chain, in the spool directory:

- ``<chain>.rows.ndjson`` (:class:`RowSpool`): batches already chained (seq and
  hashes fixed) whose write failed. Appended with ``fsync``; replayed in order,
  before anything newer, once the store is back; then truncated.
- ``<chain>.overflow.ndjson`` (:class:`RecordSpool`): records that came while the
  in-memory queue was full, not yet chained. Appended by ``AuditLog.log()`` on the
  hot path, so written to the OS at once (a crashed process loses nothing) but not
  fsync'd per record; the writer reads them back after the queue.

A torn last line (a crash in the middle of a write) is cut off when the spool is
opened, with a warning;
any other unreadable line raises :class:`AuditLogError`, never skipped quietly.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from apiward.gateway.auditlog_record import COLUMNS, AuditLogError, AuditRecord, Row

__all__ = ["RecordSpool", "RowSpool"]

log = logging.getLogger("apiward.gateway.auditlog")


def _lines(path: Path, offset: int = 0) -> Iterator[tuple[bytes, int]]:
    """Complete lines from ``offset`` with the offset after each; a torn last line is skipped."""
    try:
        f = path.open("rb")
    except FileNotFoundError:
        return
    except OSError as e:
        raise AuditLogError(f"cannot read audit spool {path}: {e}") from None
    with f:
        f.seek(offset)
        for line in f:
            if not line.endswith(b"\n"):
                log.warning("audit spool %s: skipping a torn last line (%d bytes)", path, len(line))
                return
            offset += len(line)
            yield line, offset


def _parse(path: Path, line: bytes) -> Any:
    try:
        return json.loads(line)
    except ValueError:
        raise AuditLogError(f"audit spool {path} has an unreadable line: {line[:80]!r}") from None


def _repair(path: Path) -> int:
    """Count complete lines, cutting off a torn last line so that appends start clean."""
    count, end = 0, 0
    for _, offset in _lines(path):
        count, end = count + 1, offset
    try:
        if path.stat().st_size > end:
            with path.open("r+b") as f:
                f.truncate(end)
    except FileNotFoundError:
        pass
    except OSError as e:
        raise AuditLogError(f"cannot repair audit spool {path}: {e}") from None
    return count


def _truncate(path: Path) -> None:
    try:
        with path.open("r+b") as f:
            f.truncate(0)
            os.fsync(f.fileno())
    except FileNotFoundError:
        pass
    except OSError as e:
        raise AuditLogError(f"cannot truncate audit spool {path}: {e}") from None


class RowSpool:
    """Chained rows waiting for the store, in seq order, fsync'd per append."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.count = _repair(path)

    def __bool__(self) -> bool:
        return self.count > 0

    def append(self, rows: list[Row]) -> None:
        """Append ``rows`` durably; raises :class:`AuditLogError` if the disk refuses."""
        data = b"".join(
            json.dumps(dict(zip(COLUMNS, row, strict=True)), ensure_ascii=False).encode() + b"\n"
            for row in rows
        )
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with self.path.open("ab") as f:
                start = f.tell()
                try:
                    f.write(data)
                    f.flush()
                    os.fsync(f.fileno())
                except OSError:
                    # a half-written batch would leave a torn line mid-file: cut it off
                    with contextlib.suppress(OSError):
                        f.truncate(start)
                    raise
        except OSError as e:
            raise AuditLogError(f"cannot write audit spool {self.path}: {e}") from None
        self.count += len(rows)

    def batches(self, size: int) -> Iterator[list[Row]]:
        """The spooled rows in order, ``size`` at a time."""
        batch: list[Row] = []
        for line, _ in _lines(self.path):
            data = _parse(self.path, line)
            batch.append(tuple(data[c] for c in COLUMNS))
            if len(batch) >= size:
                yield batch
                batch = []
        if batch:
            yield batch

    def last(self) -> tuple[int, str] | None:
        """``(seq, hash)`` of the last spooled row (a restart continues the chain from it)."""
        last: bytes | None = None
        if not self.count:
            return None
        for line, _ in _lines(self.path):
            last = line
        if last is None:
            return None
        data = _parse(self.path, last)
        return int(data["seq"]), str(data["hash"])

    def clear(self) -> None:
        _truncate(self.path)
        self.count = 0


class RecordSpool:
    """Unchained records that overflowed the in-memory queue, read back in order."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._fd: int | None = None
        self._read_at = 0
        self.count = _repair(path)

    def __bool__(self) -> bool:
        return self.count > 0

    def append(self, record: AuditRecord) -> None:
        """Write one record to the OS (one ``write``, O_APPEND); raises :class:`AuditLogError`."""
        line = (record.to_json() + "\n").encode()
        try:
            if self._fd is None:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                flags = os.O_WRONLY | os.O_APPEND | os.O_CREAT | getattr(os, "O_CLOEXEC", 0)
                self._fd = os.open(self.path, flags, 0o600)
            os.write(self._fd, line)
        except OSError as e:
            raise AuditLogError(f"cannot write audit overflow spool {self.path}: {e}") from None
        self.count += 1

    def take(self, size: int) -> list[AuditRecord]:
        """Up to ``size`` records after the ones already taken, in order."""
        out: list[AuditRecord] = []
        for line, offset in _lines(self.path, self._read_at):
            out.append(AuditRecord.from_dict(_parse(self.path, line)))
            self._read_at = offset
            if len(out) >= size:
                break
        self.count -= len(out)
        return out

    def commit(self) -> None:
        """Everything taken is stored or spooled: empty the file once nothing is left unread."""
        if self.count <= 0 and self._read_at:
            self.clear()

    def prepend(self, records: list[AuditRecord]) -> None:
        """Put ``records`` before the unread ones (they were logged first), atomically."""
        tmp = self.path.with_suffix(".tmp")
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with tmp.open("wb") as out:
                out.write(b"".join((r.to_json() + "\n").encode() for r in records))
                for line, _ in _lines(self.path, self._read_at):
                    out.write(line)
                out.flush()
                os.fsync(out.fileno())
            self.close()  # the append descriptor points at the file being replaced
            os.replace(tmp, self.path)
        except OSError as e:
            raise AuditLogError(f"cannot write audit overflow spool {self.path}: {e}") from None
        self.count += len(records)
        self._read_at = 0

    def clear(self) -> None:
        _truncate(self.path)
        self.count = 0
        self._read_at = 0

    def close(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None
