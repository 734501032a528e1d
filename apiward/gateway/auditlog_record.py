"""The audit record, its hash chain and the verifier, with no I/O.

A stored row is ``(chain, seq, prev_hash, hash, *record fields)``. Each record is
one column per field (so operators can query it with SQL), and the verifier
rebuilds the canonical JSON from the *raw* column values: an ``UPDATE`` of any
column, a deleted row or two rows swapped change a hash or break a link::

    hash = sha256(prev_hash "\\n" canonical JSON of {chain, seq, *record fields})

``seq`` starts at 1 on every chain and the first ``prev_hash`` is :data:`GENESIS`.
Several gateway processes each write their own chain (a ``chain`` id); the chain
cannot reveal a truncated *tail*, so :attr:`VerifyResult.heads` gives each
chain's last hash for an operator to anchor elsewhere.
"""

from __future__ import annotations

import hashlib
import json
import json.encoder
import operator
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

from apiward.errors import ApiwardError

__all__ = [
    "COLUMNS",
    "GENESIS",
    "RECORD_FIELDS",
    "AuditLogError",
    "AuditRecord",
    "AuditStore",
    "ChainStatus",
    "Row",
    "VerifyResult",
    "canonical_json",
    "chain_hash",
    "chain_rows",
    "check_table_name",
    "new_record",
    "verify_rows",
]

GENESIS = "0" * 64
RECORD_FIELDS = (
    "ts_ms",
    "request_id",
    "client_ip",
    "identity",
    "operation",
    "method",
    "path",
    "decision",
    "policy",
    "status",
    "latency_us",
    "request_bytes",
    "response_bytes",
    "reason",
)
COLUMNS = ("chain", "seq", "prev_hash", "hash", *RECORD_FIELDS)
Row = tuple[Any, ...]
"""One stored row, values in :data:`COLUMNS` order."""

# the C string encoder json.dumps(..., ensure_ascii=False) itself uses
_encode_str: Callable[[str], str] = json.encoder.encode_basestring
_TOKEN_PREFIXES = ("eyJ", "Bearer ", "bearer ", "Basic ", "basic ")
_LIMITS = {"path": 2048, "identity": 256, "reason": 512, "operation": 512, "request_id": 128}


class AuditLogError(ApiwardError):
    """The audit log cannot do its job: a record that can be neither stored nor spooled,
    a spool that cannot be read, or another writer on the same chain."""


def _now_ms() -> int:
    return time.time_ns() // 1_000_000


def _clean(value: str, limit: int) -> str:
    # PostgreSQL text refuses NUL; length caps keep one hostile request from bloating a row
    if "\x00" in value:
        value = value.replace("\x00", "\\0")
    return value if len(value) <= limit else value[: limit - 1] + "…"


@dataclass(frozen=True, slots=True, kw_only=True)
class AuditRecord:
    """What the gateway knows about one request once it is answered. Never a secret.

    ``path`` is the canonical path only: a query string is cut off here because
    query values can hold API keys. ``identity`` is a name or ``sub``, never a
    token (a JWT-looking value is replaced). ``policy`` names the policy that
    decided (for a deny) and ``reason`` says why, in words that hold no secret.
    """

    request_id: str
    client_ip: str
    method: str
    path: str
    decision: Literal["allow", "deny"]
    status: int
    identity: str | None = None
    operation: str | None = None
    policy: str | None = None
    latency_us: int = 0  # integers round-trip exactly through every store; floats may not
    request_bytes: int = 0
    response_bytes: int = 0
    reason: str | None = None
    ts_ms: int = field(default_factory=_now_ms)

    def __post_init__(self) -> None:
        # the common case (clean values) costs a handful of checks: this runs per request
        if self.decision != "allow" and self.decision != "deny":
            raise _bad_decision(self.decision)
        path = self.path
        if "?" in path or "\x00" in path or len(path) > _PATH_LIMIT:
            object.__setattr__(self, "path", _clean(path.partition("?")[0], _PATH_LIMIT))
        ident = self.identity
        if ident is not None:
            cleaned = _clean_identity(ident)
            if cleaned is not ident:
                object.__setattr__(self, "identity", cleaned)
        for name in ("reason", "operation", "request_id"):
            value = getattr(self, name)
            if value is not None and ("\x00" in value or len(value) > _LIMITS[name]):
                object.__setattr__(self, name, _clean(value, _LIMITS[name]))

    def values(self) -> tuple[Any, ...]:
        """The field values in :data:`RECORD_FIELDS` order (the row's record columns)."""
        return _record_values(self)

    def to_dict(self) -> dict[str, Any]:
        return dict(zip(RECORD_FIELDS, self.values(), strict=True))

    def to_json(self) -> str:
        """Canonical JSON (sorted keys, no spaces): equal records give equal text."""
        return json.dumps(self.to_dict(), sort_keys=True, separators=(",", ":"), ensure_ascii=False)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> AuditRecord:
        return cls(**{k: data[k] for k in RECORD_FIELDS if k in data})


_PATH_LIMIT = _LIMITS["path"]
_IDENTITY_LIMIT = _LIMITS["identity"]
_REASON_LIMIT = _LIMITS["reason"]
_OPERATION_LIMIT = _LIMITS["operation"]
_REQUEST_ID_LIMIT = _LIMITS["request_id"]


def _bad_decision(decision: object) -> AuditLogError:
    return AuditLogError(f"audit record decision must be 'allow' or 'deny', not {decision!r}")


def _clean_identity(ident: str) -> str:
    if ident.startswith(_TOKEN_PREFIXES):
        return "<redacted: token-like identity>"
    if "\x00" in ident or len(ident) > _IDENTITY_LIMIT:
        return _clean(ident, _IDENTITY_LIMIT)
    return ident


# A frozen dataclass's __init__ costs three times plain slot stores (as for core.router's
# Match): the engine's once-per-request record fills the slots directly instead.
_new_record = AuditRecord.__new__
_fields = vars(AuditRecord)
_set_request_id = _fields["request_id"].__set__
_set_client_ip = _fields["client_ip"].__set__
_set_method = _fields["method"].__set__
_set_path = _fields["path"].__set__
_set_decision = _fields["decision"].__set__
_set_status = _fields["status"].__set__
_set_identity = _fields["identity"].__set__
_set_operation = _fields["operation"].__set__
_set_policy = _fields["policy"].__set__
_set_latency_us = _fields["latency_us"].__set__
_set_request_bytes = _fields["request_bytes"].__set__
_set_response_bytes = _fields["response_bytes"].__set__
_set_reason = _fields["reason"].__set__
_set_ts_ms = _fields["ts_ms"].__set__
del _fields


def new_record(
    request_id: str,
    client_ip: str,
    method: str,
    path: str,
    decision: Literal["allow", "deny"],
    status: int,
    identity: str | None = None,
    operation: str | None = None,
    policy: str | None = None,
    latency_us: int = 0,
    request_bytes: int = 0,
    response_bytes: int = 0,
    reason: str | None = None,
) -> AuditRecord:
    """``AuditRecord(...)`` with positional arguments, at a third of the cost (the gateway
    builds one per request): the same checks and cleaning, ``ts_ms`` now."""
    if decision != "allow" and decision != "deny":
        raise _bad_decision(decision)
    if "?" in path or "\x00" in path or len(path) > _PATH_LIMIT:
        path = _clean(path.partition("?")[0], _PATH_LIMIT)
    if identity is not None:
        identity = _clean_identity(identity)
    if operation is not None and ("\x00" in operation or len(operation) > _OPERATION_LIMIT):
        operation = _clean(operation, _OPERATION_LIMIT)
    if reason is not None and ("\x00" in reason or len(reason) > _REASON_LIMIT):
        reason = _clean(reason, _REASON_LIMIT)
    if "\x00" in request_id or len(request_id) > _REQUEST_ID_LIMIT:
        request_id = _clean(request_id, _REQUEST_ID_LIMIT)
    record = _new_record(AuditRecord)
    _set_request_id(record, request_id)
    _set_client_ip(record, client_ip)
    _set_method(record, method)
    _set_path(record, path)
    _set_decision(record, decision)
    _set_status(record, status)
    _set_identity(record, identity)
    _set_operation(record, operation)
    _set_policy(record, policy)
    _set_latency_us(record, latency_us)
    _set_request_bytes(record, request_bytes)
    _set_response_bytes(record, response_bytes)
    _set_reason(record, reason)
    _set_ts_ms(record, _now_ms())
    return record


def _json_value(value: Any) -> str:
    if value is None:
        return "null"
    if type(value) is str:
        return _encode_str(value)
    if type(value) is int:
        return str(value)
    return json.dumps(value, ensure_ascii=False)  # a tampered column may hold anything


_record_values = operator.attrgetter(*RECORD_FIELDS)
_SORTED = sorted((*RECORD_FIELDS, "chain", "seq"))
# the row's values, (chain, seq, *record values), in key order; and the text around them
_IN_KEY_ORDER = operator.itemgetter(
    *(("chain", "seq", *RECORD_FIELDS).index(name) for name in _SORTED)
)
_TEMPLATE = "{" + ",".join(f'"{name}":%s' for name in _SORTED) + "}"


def canonical_json(chain: str, seq: int, record_values: Sequence[Any]) -> str:
    """The hashed text of one row, built from raw values (the verifier must not clean them).

    Exactly ``json.dumps({chain, seq, *fields}, sort_keys=True, separators=(",", ":"),
    ensure_ascii=False)``, written out by hand because this runs once per record.
    """
    if len(record_values) != len(RECORD_FIELDS):
        raise AuditLogError(f"an audit row has {len(record_values)} record values")
    # _json_value inlined for the usual types (one call per row, not one per value)
    return _TEMPLATE % tuple(
        [
            _encode_str(v)
            if type(v) is str
            else "null"
            if v is None
            else str(v)
            if type(v) is int
            else _json_value(v)
            for v in _IN_KEY_ORDER((chain, seq, *record_values))
        ]
    )


def chain_hash(prev_hash: str, chain: str, seq: int, record_values: Sequence[Any]) -> str:
    text = canonical_json(chain, seq, record_values)
    return hashlib.sha256(f"{prev_hash}\n{text}".encode()).hexdigest()


def chain_rows(
    chain: str, seq: int, prev_hash: str, records: Iterable[AuditRecord]
) -> tuple[list[Row], int, str]:
    """Chain ``records`` after ``(seq, prev_hash)``; returns the rows and the new tail."""
    rows: list[Row] = []
    for record in records:
        seq += 1
        values = record.values()
        digest = chain_hash(prev_hash, chain, seq, values)
        rows.append((chain, seq, prev_hash, digest, *values))
        prev_hash = digest
    return rows, seq, prev_hash


def check_table_name(table: str) -> str:
    """A table name safe to put in SQL (stores also quote it)."""
    ok = table.replace("_", "a").isalnum() and table.isascii() and not table[0].isdigit()
    if not ok or len(table) > 63:
        raise AuditLogError(f"audit table name {table!r} must be letters, digits and '_' (max 63)")
    return table


class AuditStore(Protocol):
    """Where chained rows go. One writer per chain; :meth:`write` is one transaction."""

    async def open(self) -> None:
        """Connect and create the table if it is missing."""

    async def tail(self, chain: str) -> tuple[int, str]:
        """``(seq, hash)`` of the chain's last row, ``(0, GENESIS)`` for a new chain."""

    async def write(self, rows: Sequence[Row]) -> None:
        """Insert ``rows`` in one transaction; raise on any failure (nothing half-written)."""

    async def aclose(self) -> None:
        """Close connections; the store may be opened again."""


@dataclass(frozen=True, slots=True)
class ChainStatus:
    """One chain's verification: rows checked, its head, and the first bad row if any."""

    chain: str
    checked: int
    last_seq: int
    last_hash: str
    first_bad_seq: int | None = None
    problem: str | None = None


@dataclass(frozen=True, slots=True)
class VerifyResult:
    """The verdict on every chain of a store; ``message`` is written for a person."""

    chains: tuple[ChainStatus, ...]

    @property
    def ok(self) -> bool:
        return all(c.first_bad_seq is None for c in self.chains)

    @property
    def checked(self) -> int:
        return sum(c.checked for c in self.chains)

    @property
    def first_bad(self) -> ChainStatus | None:
        return next((c for c in self.chains if c.first_bad_seq is not None), None)

    @property
    def first_bad_seq(self) -> int | None:
        bad = self.first_bad
        return bad.first_bad_seq if bad else None

    @property
    def heads(self) -> dict[str, tuple[int, str]]:
        return {c.chain: (c.last_seq, c.last_hash) for c in self.chains}

    @property
    def message(self) -> str:
        if not self.chains:
            return "audit log is empty: nothing to verify"
        bad = [c for c in self.chains if c.first_bad_seq is not None]
        if not bad:
            heads = ", ".join(f"{c.chain}@{c.last_seq} {c.last_hash[:12]}" for c in self.chains)
            count = f"{self.checked} records in {len(self.chains)} chain(s)"
            return f"audit log intact: {count} ({heads})"
        lines = [f"audit log TAMPERED: {len(bad)} of {len(self.chains)} chain(s) broken"]
        lines += [f"  chain {c.chain!r}: first bad seq {c.first_bad_seq}: {c.problem}" for c in bad]
        return "\n".join(lines)


def verify_rows(rows: Iterable[Sequence[Any]]) -> VerifyResult:
    """Check rows given in ``(chain, seq)`` order (:data:`COLUMNS` order), streaming.

    Each chain must run 1, 2, 3... with every ``prev_hash`` the hash before it and
    every hash recomputed from the raw columns; a chain is reported at its first
    bad row and the rest of it skipped.
    """
    done: list[ChainStatus] = []
    chain: str | None = None
    expected, prev, checked, bad_seq, problem = 1, GENESIS, 0, None, None

    def close() -> None:
        if chain is not None:
            done.append(ChainStatus(chain, checked, expected - 1, prev, bad_seq, problem))

    for row in rows:
        name, seq, prev_hash, digest, *values = row
        if name != chain:
            close()
            chain, expected, prev, checked, bad_seq, problem = name, 1, GENESIS, 0, None, None
        if bad_seq is not None:
            continue
        checked += 1
        if seq != expected:
            bad_seq = expected
            problem = f"expected seq {expected}, found {seq} (a record deleted or moved)"
        elif prev_hash != prev:
            bad_seq, problem = seq, "prev_hash does not match the record before it (reordered)"
        elif chain_hash(prev_hash, name, seq, values) != digest:
            bad_seq, problem = seq, "hash does not match its contents (edited)"
        else:
            expected, prev = expected + 1, digest
    close()
    return VerifyResult(tuple(done))
