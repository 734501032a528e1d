"""Findings against the ground truth: which planted runtime flaws a scan found."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from apiward.core import Finding
from apiward.demo.manifest import Entry

__all__ = ["RuntimeMatch", "match_runtime_entries"]


@dataclass(frozen=True, slots=True)
class RuntimeMatch:
    """A runtime flaw of the ground truth and the scan finding that proves it (if any)."""

    entry: Entry
    finding: Finding | None


def match_runtime_entries(entries: Iterable[Entry], findings: list[Finding]) -> list[RuntimeMatch]:
    """Pair each runtime entry with a finding of one of its expected checks.

    A finding matches when its check is one the entry lists and it concerns the
    entry's operation (or one in ``also``). Entries without an operation (global or
    undocumented flaws) match on the check; when several such entries share a check,
    the finding must name the entry's path.
    """
    entries = list(entries)
    out = []
    for entry in entries:
        out.append(
            RuntimeMatch(entry, next((f for f in findings if _proves(f, entry, entries)), None))
        )
    return out


def _proves(finding: Finding, entry: Entry, entries: list[Entry]) -> bool:
    if finding.rule_id not in entry.checks:
        return False
    if entry.operation is not None:
        keys = {u.key for u in finding.usages}
        return bool(keys & {entry.operation, *entry.also})
    rivals = [
        e for e in entries if e is not entry and e.operation is None and finding.rule_id in e.checks
    ]
    if not rivals or entry.proof.request is None:
        return True
    path = entry.proof.request.path
    return path in finding.key or path in finding.message
