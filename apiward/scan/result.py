"""What a scan returns: findings, what the baseline set aside, failures, and the cost."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from apiward.core import Finding, Severity
from apiward.scan.check import Check

__all__ = ["CheckError", "ScanResult"]


@dataclass(frozen=True, slots=True)
class CheckError:
    """A check that raised instead of finishing: what it would have found is missing."""

    check_id: str
    message: str
    traceback: str = ""


@dataclass(slots=True)
class ScanResult:
    """One scan of one API. ``findings`` are sorted worst first."""

    spec: str
    title: str
    target: str
    identities: list[str]
    checks: list[Check]
    findings: list[Finding]
    baselined: list[Finding] = field(default_factory=list)
    errors: list[CheckError] = field(default_factory=list)
    skipped: dict[str, str] = field(default_factory=dict)  # check id -> why it did not run
    warnings: list[str] = field(default_factory=list)
    requests: int = 0
    duration: float = 0.0
    budget_exhausted: bool = False
    resumed: int = 0  # findings carried over from an interrupted run
    started: float = 0.0  # when the scan began (seconds since the epoch)

    @property
    def counts(self) -> dict[Severity, int]:
        found = Counter(f.severity for f in self.findings)
        return {s: found.get(s, 0) for s in sorted(Severity, reverse=True)}

    def current(self) -> list[Finding]:
        """Every finding of this run, reported or baselined (what a new baseline holds)."""
        return self.findings + self.baselined

    def check(self, check_id: str) -> Check | None:
        return next((c for c in self.checks if c.id == check_id), None)

    @property
    def complete(self) -> bool:
        return not self.errors and not self.budget_exhausted
