"""The audit score: 0 to 100, with a sub-score per OWASP API Top 10 category.

Like 42Crunch's, the score is split between **security** (30 points: authentication,
authorization, transport, ...) and **data validation** (70 points: how tightly the
schemas bound what goes in and out); each rule's ``group`` says which it counts in.

Each finding has a penalty::

    penalty = weight(severity) * (1 + log2(1 + usages))

with weights critical 20, high 10, medium 4, low 1, info 0. The log makes a
finding that affects 300 operations weigh more than one that affects 1 (9.2x
the weight against 2x), but far less than 300 separate findings would.

A group with budget ``B`` and total penalty ``P`` keeps ``B * H / (H + P)`` points
(rounded down), with ``H = 4 * B``: it loses half its points when ``P`` reaches
``H``, never goes below 0, and keeps all of them only when ``P`` is 0. The score
is the sum of the two groups, so a spec with no findings (or only ``info`` ones)
scores 100 and any other scores less.

A category's sub-score is ``100 * 100 / (100 + P)`` over its own findings, rounded
down; ``None`` when no rule of that category ran (the category was not assessed).
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, field

from apiward.audit.rule import Rule
from apiward.core import Finding, Owasp, Severity

__all__ = ["BUDGETS", "WEIGHTS", "CategoryScore", "Score", "compute_score", "penalty"]

WEIGHTS = {
    Severity.CRITICAL: 20.0,
    Severity.HIGH: 10.0,
    Severity.MEDIUM: 4.0,
    Severity.LOW: 1.0,
    Severity.INFO: 0.0,
}
BUDGETS = {"security": 30, "data": 70}
HALF = 4  # a group's half-score penalty, per point of budget
CATEGORY_HALF = 100.0


@dataclass(frozen=True, slots=True)
class CategoryScore:
    """One OWASP category: its sub-score (None: no rule of it ran), findings and penalty."""

    score: int | None
    findings: int
    penalty: float


@dataclass(frozen=True, slots=True)
class Score:
    """The score of one audit. ``security`` + ``data`` == ``total``."""

    total: int
    security: int
    data: int
    categories: dict[Owasp, CategoryScore] = field(default_factory=dict)
    penalties: dict[str, float] = field(default_factory=dict)  # per group


def penalty(finding: Finding) -> float:
    """How much one finding costs: severity weight, grown by log2 of the operations it affects."""
    return WEIGHTS[finding.severity] * (1.0 + math.log2(1 + len(finding.usages)))


def group_points(budget: int, total_penalty: float) -> int:
    """What a group of ``budget`` points keeps after ``total_penalty``."""
    half = HALF * budget
    return math.floor(budget * half / (half + total_penalty))


def compute_score(findings: Iterable[Finding], rules: Iterable[Rule]) -> Score:
    """Score the findings of one audit; ``rules`` are the rules that ran."""
    group_of = {r.id: r.group for r in rules}
    covered = {r.category for r in rules}
    by_group = dict.fromkeys(BUDGETS, 0.0)
    by_cat = dict.fromkeys(Owasp, 0.0)
    count = dict.fromkeys(Owasp, 0)
    for f in findings:
        p = penalty(f)
        by_group[group_of.get(f.rule_id, "security")] += p
        by_cat[f.category] += p
        count[f.category] += 1
    security = group_points(BUDGETS["security"], by_group["security"])
    data = group_points(BUDGETS["data"], by_group["data"])
    categories = {
        c: CategoryScore(
            math.floor(100 * CATEGORY_HALF / (CATEGORY_HALF + by_cat[c])) if c in covered else None,
            count[c],
            round(by_cat[c], 2),
        )
        for c in Owasp
    }
    return Score(
        total=security + data,
        security=security,
        data=data,
        categories=categories,
        penalties={g: round(p, 2) for g, p in by_group.items()},
    )
