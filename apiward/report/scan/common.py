"""What the scan reporters share: the gate and verdict, check metadata, grouping and counts."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from apiward.core import Finding, Owasp, Severity
from apiward.scan.check import Check, Phase
from apiward.scan.result import ScanResult

__all__ = [
    "API_WIDE",
    "SEVERITIES",
    "Verdict",
    "by_category",
    "category_counts",
    "check_index",
    "checks_run",
    "fails",
    "operation",
    "plural",
    "severity_counts",
    "shown_per_check",
    "verdict",
]

API_WIDE = "(whole API)"
# worst first, the order every summary lists them in
SEVERITIES = sorted(Severity, reverse=True)


def fails(finding: Finding, fail_on: Severity | None) -> bool:
    """Whether ``finding`` fails the CI run (it is at or above the ``--fail-on`` bar)."""
    return fail_on is not None and fail_on <= finding.severity


def plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


@dataclass(frozen=True, slots=True)
class Verdict:
    """PASS, FAIL or INCOMPLETE, why (``reasons``), and what the reader should know (``notes``)."""

    status: str
    reasons: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return self.status == "PASS"

    def line(self) -> str:
        """One line: ``FAIL: 3 findings at or above high`` or ``PASS``."""
        text = self.status
        if self.reasons:
            text += ": " + "; ".join(self.reasons)
        if self.notes:
            text += " (" + "; ".join(self.notes) + ")"
        return text


def verdict(result: ScanResult, fail_on: Severity | None) -> Verdict:
    """The run's verdict, as the CLI's exit code decides it: findings over the bar fail
    it; a crashed check leaves it INCOMPLETE; a spent budget is a note, not a failure."""
    reasons: list[str] = []
    notes: list[str] = []
    over = [f for f in result.findings if fails(f, fail_on)]
    if over and fail_on is not None:
        reasons.append(f"{plural(len(over), 'finding')} at or above {fail_on.value}")
    if result.errors:
        ids = ", ".join(sorted({e.check_id for e in result.errors}))
        reasons.append(f"{plural(len(result.errors), 'check')} crashed ({ids})")
    if result.budget_exhausted:
        notes.append(f"incomplete: the request budget ran out after {result.requests} requests")
    if fail_on is None:
        notes.append("no severity gate")
    status = "FAIL" if over else ("INCOMPLETE" if result.errors else "PASS")
    return Verdict(status, reasons, notes)


async def _nothing(ctx: object) -> None:  # the stand-in check below never runs
    return None


def check_index(result: ScanResult) -> dict[str, Check]:
    """Every check a finding may name, by id: the result's checks, plus a stand-in built
    from the finding itself for a check that is not listed (a resumed run's, say)."""
    index = {c.id: c for c in result.checks}
    for f in (*result.findings, *result.baselined):
        if f.rule_id not in index:
            index[f.rule_id] = Check(
                f.rule_id, f.title, f.category, f.cwe, f.severity, f.remediation, "",
                Phase.READ, _nothing,
            )  # fmt: skip
    return index


def checks_run(result: ScanResult) -> list[Check]:
    """The checks that ran (selected and not skipped), plus any that only a finding names."""
    index = check_index(result)
    return [c for c in index.values() if c.id not in result.skipped]


def operation(finding: Finding) -> str:
    """The operation a finding concerns (``GET /accounts/{id}``), or that it is API-wide."""
    if finding.usages:
        return ", ".join(u.key for u in finding.usages)
    return API_WIDE


def by_category(findings: Iterable[Finding]) -> list[tuple[Owasp, list[Finding]]]:
    """Findings grouped by OWASP category (API1 first), each group worst first, then by check."""
    order = list(Owasp)
    groups: dict[Owasp, list[Finding]] = {}
    for f in findings:
        groups.setdefault(f.category, []).append(f)
    return [
        (cat, sorted(groups[cat], key=lambda f: (-f.severity.rank, f.rule_id)))
        for cat in sorted(groups, key=order.index)
    ]


def severity_counts(findings: Iterable[Finding]) -> dict[Severity, int]:
    """Findings per severity, every severity present, worst first."""
    counts = dict.fromkeys(SEVERITIES, 0)
    for f in findings:
        counts[f.severity] += 1
    return counts


def category_counts(findings: Iterable[Finding]) -> dict[Owasp, dict[Severity, int]]:
    """Findings per OWASP category and severity, every category present, API1 first."""
    counts = {cat: dict.fromkeys(SEVERITIES, 0) for cat in Owasp}
    for f in findings:
        counts[f.category][f.severity] += 1
    return counts


def shown_per_check(
    findings: list[Finding], limit: int | None
) -> tuple[list[Finding], dict[str, int]]:
    """The first ``limit`` findings of each check (all when None), and how many of each
    check were left out."""
    seen: dict[str, int] = {}
    shown: list[Finding] = []
    left: dict[str, int] = {}
    for f in findings:
        seen[f.rule_id] = seen.get(f.rule_id, 0) + 1
        if limit is None or seen[f.rule_id] <= limit:
            shown.append(f)
        else:
            left[f.rule_id] = left.get(f.rule_id, 0) + 1
    return shown, left
