"""The bars of the scanner on the demo bank: every planted flaw found, nothing on the twin.

One full scan of each mode (all checks, the demo's own scan config), as `apiward demo` runs it.
"""

from __future__ import annotations

from apiward.core import Document
from apiward.demo import load_manifest, match_runtime_entries
from tests.scan.conftest import scan_demo


def test_every_planted_vulnerability_is_found(demo_doc: Document, vulnerable: str) -> None:
    result = scan_demo(demo_doc, vulnerable)
    manifest = load_manifest()
    missed = [
        m.entry.id
        for m in match_runtime_entries(manifest.runtime, result.findings)
        if m.finding is None
    ]
    print(f"{len(result.findings)} findings, {result.requests} requests, {result.duration:.1f}s")
    assert not missed, f"missed: {missed}"
    assert result.complete


def test_the_secure_twin_has_no_findings(demo_doc: Document, secure: str) -> None:
    result = scan_demo(demo_doc, secure)
    assert [f"{f.rule_id}: {f.message}" for f in result.findings] == []
    assert result.complete


def test_every_runtime_entry_names_a_registered_check() -> None:
    from apiward.scan import CHECKS

    for entry in load_manifest().runtime:
        assert entry.checks, f"{entry.id} names no scan check"
        for check_id in entry.checks:
            assert check_id in CHECKS, f"{entry.id}: unknown check {check_id}"
