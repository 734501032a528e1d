"""What an audit returns: findings, what was set aside, rule failures and the score.

These are plain data for reporters: nothing here refers to the document or to a
rule's code, so a report can be written after the document is gone.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from apiward.audit.rule import Rule
from apiward.audit.score import Score
from apiward.core import Finding, Severity

__all__ = ["AuditResult", "RuleError", "Suppressed"]


@dataclass(frozen=True, slots=True)
class RuleError:
    """A rule that raised instead of finishing; its findings are missing from the result.

    ``internal`` is False when the rule stopped on a problem of the document
    (an unresolvable ``$ref``, say) and True when it is a bug in apiward.
    """

    rule_id: str
    message: str
    internal: bool
    traceback: str = ""


@dataclass(frozen=True, slots=True)
class Suppressed:
    """A finding left out of the report. ``reason`` is ``"ignore"`` or ``"baseline"``.

    ``where`` is the pointer of the node carrying ``x-apiward-ignore`` (for ``ignore``).
    """

    finding: Finding
    reason: str
    where: str = ""


@dataclass(slots=True)
class AuditResult:
    """The audit of one document.

    ``findings`` are the reported ones, sorted by severity (worst first), then
    location. ``suppressed`` holds the findings set aside by ``x-apiward-ignore``
    or by the baseline; the score counts baselined findings (they are still in
    the spec) but not ignored ones.
    """

    spec: str
    title: str
    version: str
    operations: int
    rules: list[Rule]
    findings: list[Finding]
    score: Score
    suppressed: list[Suppressed] = field(default_factory=list)
    rule_errors: list[RuleError] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)
    baseline_fixed: int = 0  # baseline entries for this spec no longer found

    @property
    def counts(self) -> dict[Severity, int]:
        """Reported findings per severity, every severity present (worst first)."""
        found = Counter(f.severity for f in self.findings)
        return {s: found.get(s, 0) for s in sorted(Severity, reverse=True)}

    @property
    def ignored(self) -> int:
        return sum(1 for s in self.suppressed if s.reason == "ignore")

    @property
    def baselined(self) -> int:
        return sum(1 for s in self.suppressed if s.reason == "baseline")

    def current(self) -> list[Finding]:
        """Every finding the spec has now, reported or baselined (what a new baseline holds)."""
        return self.findings + [s.finding for s in self.suppressed if s.reason == "baseline"]

    def rule(self, rule_id: str) -> Rule | None:
        return next((r for r in self.rules if r.id == rule_id), None)

    @property
    def complete(self) -> bool:
        """False when a rule failed: the findings and score miss what it would have found."""
        return not self.rule_errors
