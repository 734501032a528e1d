"""The audit record (nothing secret gets in) and the pure hash-chain verifier."""

from __future__ import annotations

import dataclasses
import json

import pytest

from apiward.gateway.auditlog_record import (
    GENESIS,
    RECORD_FIELDS,
    AuditLogError,
    AuditRecord,
    canonical_json,
    chain_rows,
    new_record,
    verify_rows,
)


def _record(i: int = 0, **kw: object) -> AuditRecord:
    base: dict[str, object] = {
        "request_id": f"r{i}",
        "client_ip": "127.0.0.1",
        "method": "GET",
        "path": f"/accounts/{i}",
        "decision": "allow",
        "status": 200,
        "ts_ms": 1_700_000_000_000 + i,
    }
    base.update(kw)
    return AuditRecord(**base)  # type: ignore[arg-type]


def test_query_string_is_cut_from_the_path() -> None:
    r = _record(path="/accounts/7?api_key=s3cr3t&x=1")
    assert r.path == "/accounts/7"
    assert "s3cr3t" not in r.to_json()


@pytest.mark.parametrize("token", ["eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.sig", "Bearer abc.def"])
def test_a_token_given_as_identity_is_not_stored(token: str) -> None:
    r = _record(identity=token)
    assert token not in r.to_json()
    assert r.identity is not None and r.identity.startswith("<redacted")


def test_nul_and_oversized_values_are_made_storable() -> None:
    r = _record(path="/a\x00b" + "x" * 5000, reason="r" * 2000)
    assert "\x00" not in r.path and len(r.path) <= 2048
    assert r.reason is not None and len(r.reason) <= 512


def test_decision_is_allow_or_deny() -> None:
    with pytest.raises(AuditLogError, match="allow"):
        _record(decision="maybe")


def test_to_json_is_canonical_and_round_trips() -> None:
    r = _record(identity="alice", latency_us=812)
    text = r.to_json()
    assert list(json.loads(text)) == sorted(json.loads(text))
    assert " " not in text
    assert AuditRecord.from_dict(json.loads(text)) == r


def _chain(n: int) -> list[list[object]]:
    rows, _, _ = chain_rows("c1", 0, GENESIS, [_record(i) for i in range(n)])
    return [list(row) for row in rows]


def test_an_intact_chain_verifies() -> None:
    result = verify_rows(_chain(5))
    assert result.ok and result.checked == 5 and result.first_bad_seq is None
    assert result.heads["c1"][0] == 5
    assert "intact" in result.message


def test_edit_delete_and_reorder_are_named_at_their_seq() -> None:
    rows = _chain(6)
    rows[3][13] = 500  # status of seq 4
    assert verify_rows(rows).first_bad_seq == 4
    rows = _chain(6)
    del rows[2]
    assert verify_rows(rows).first_bad_seq == 3
    rows = _chain(6)
    rows[1][1], rows[4][1] = rows[4][1], rows[1][1]  # seq numbers swapped
    rows.sort(key=lambda r: int(r[1]))  # type: ignore[call-overload]
    bad = verify_rows(rows)
    assert bad.first_bad_seq == 2 and not bad.ok
    assert "TAMPERED" in bad.message and "seq 2" in bad.message


def test_each_chain_is_checked_on_its_own() -> None:
    good = _chain(3)
    other, _, _ = chain_rows("c2", 0, GENESIS, [_record(i) for i in range(4)])
    broken = [list(r) for r in other]
    broken[0][10] = "/elsewhere"  # path of c2 seq 1
    result = verify_rows([*good, *broken])
    assert not result.ok and result.first_bad is not None
    assert (result.first_bad.chain, result.first_bad_seq) == ("c2", 1)
    assert [c.first_bad_seq for c in result.chains] == [None, 1]


@pytest.mark.parametrize(
    "overrides",
    [
        {},
        {"identity": "alice", "operation": "GET /a/{id}", "policy": "rate-limit"},
        {"path": "/a?api_key=s3cr3t", "identity": "eyJx.y.z", "reason": "bad\x00" + "r" * 600},
        {"identity": "x" * 300, "operation": "o" * 600, "request_id": "\x00" * 200},
    ],
)
def test_new_record_equals_the_dataclass_built_one(overrides: dict[str, object]) -> None:
    values: dict[str, object] = {
        "request_id": "r1",
        "client_ip": "10.0.0.1",
        "method": "GET",
        "path": "/a/1",
        "decision": "deny",
        "status": 429,
        "latency_us": 12,
        "request_bytes": 3,
        "response_bytes": 40,
        **overrides,
    }
    order = [f.name for f in dataclasses.fields(AuditRecord) if f.name != "ts_ms"]
    fast = new_record(*(values.get(name) for name in order))  # type: ignore[arg-type]
    slow = AuditRecord(**values, ts_ms=fast.ts_ms)  # type: ignore[arg-type]
    assert fast == slow


def test_new_record_takes_the_fields_in_order_and_refuses_a_bad_decision() -> None:
    import inspect

    params = list(inspect.signature(new_record).parameters)
    assert params == [f.name for f in dataclasses.fields(AuditRecord) if f.name != "ts_ms"]
    with pytest.raises(AuditLogError):
        new_record("r", "ip", "GET", "/", "maybe", 200)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "values",
    [
        ["r", "ip", None, "GET", "/", "allow", None, 200, 1, 2, 3, None, 0, 1],
        ['é\u2028\x00"\\%s', True, 1.5, [1, "a"], {"b": None}, 2**70, "", -1, 0, 0, 0, 0, 0, 0],
    ],
)
def test_canonical_json_is_the_sorted_compact_dump(values: list[object]) -> None:
    expected = {"chain": "main", "seq": 7, **dict(zip(RECORD_FIELDS, values, strict=True))}
    text = canonical_json("main", 7, values)
    assert json.loads(text) == expected
    if not any(isinstance(v, list | dict) for v in values):
        assert text == json.dumps(
            expected, sort_keys=True, separators=(",", ":"), ensure_ascii=False
        )
