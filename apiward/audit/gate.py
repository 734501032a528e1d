"""When an audit fails a CI run, and the exit code that says so (docs/exit-codes.md)."""

from __future__ import annotations

from dataclasses import dataclass, field

from apiward.audit.result import AuditResult
from apiward.core import Severity

__all__ = [
    "EXIT_CLEAN",
    "EXIT_FINDINGS",
    "EXIT_INPUT",
    "EXIT_INTERNAL",
    "AuditRun",
    "Gate",
    "SpecFailure",
]

EXIT_CLEAN, EXIT_FINDINGS, EXIT_INPUT, EXIT_INTERNAL = 0, 1, 2, 3


@dataclass(frozen=True, slots=True)
class Gate:
    """The bar: findings at or above ``fail_on`` (None: never) or a score below ``min_score``."""

    fail_on: Severity | None = Severity.HIGH
    min_score: int | None = None

    def reasons(self, result: AuditResult) -> list[str]:
        """Why ``result`` does not pass, one short sentence each (empty: it passes)."""
        out = []
        if self.fail_on is not None:
            over = [f for f in result.findings if f.severity >= self.fail_on]
            if over:
                out.append(
                    f"{len(over)} finding{'s' if len(over) != 1 else ''} "
                    f"at or above {self.fail_on.value}"
                )
        if self.min_score is not None and result.score.total < self.min_score:
            out.append(f"score {result.score.total} is below {self.min_score}")
        return out

    def fails(self, finding_severity: Severity) -> bool:
        return self.fail_on is not None and finding_severity >= self.fail_on


@dataclass(frozen=True, slots=True)
class SpecFailure:
    """A spec that could not be audited (unreadable, not an API document, ...)."""

    spec: str
    message: str


@dataclass(slots=True)
class AuditRun:
    """The audits of one command: results, specs that failed to load, and the bar."""

    results: list[AuditResult]
    gate: Gate = field(default_factory=Gate)
    failures: list[SpecFailure] = field(default_factory=list)
    findings_gate: bool = True  # False with --write-baseline: findings are being accepted

    def exit_code(self) -> int:
        """The highest that applies: 3 a rule crashed, 2 a spec or rule hit bad input,
        1 a result is over the bar, 0 clean."""
        codes = [EXIT_CLEAN]
        for r in self.results:
            if any(e.internal for e in r.rule_errors):
                codes.append(EXIT_INTERNAL)
            elif r.rule_errors:
                codes.append(EXIT_INPUT)
            if self.reasons(r):
                codes.append(EXIT_FINDINGS)
        if self.failures:
            codes.append(EXIT_INPUT)
        return max(codes)

    def reasons(self, result: AuditResult) -> list[str]:
        gate = self.gate if self.findings_gate else Gate(None, self.gate.min_score)
        return gate.reasons(result)

    def fails(self, severity: Severity) -> bool:
        """Whether a finding of ``severity`` counts against the bar."""
        return self.findings_gate and self.gate.fails(severity)
