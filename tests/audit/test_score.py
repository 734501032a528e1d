from __future__ import annotations

import functools

import pytest

from apiward.audit.rule import Rule
from apiward.audit.score import BUDGETS, compute_score, group_points, penalty
from apiward.core import Finding, Location, OperationRef, Owasp, Severity
from tests.audit.engine_helpers import make_rule

SEC = make_rule("sec", lambda d: [], category=Owasp.API2, group="security")
DATA = make_rule("data", lambda d: [], category=Owasp.API4, group="data")
RULES = [SEC, DATA]


@functools.cache
def refs(n: int) -> list[OperationRef]:
    return [OperationRef(f"GET /{i}", Location("f", f"/paths/~1{i}/get")) for i in range(n)]


def finding(rule: Rule, severity: Severity, usages: int = 1, where: str = "/x") -> Finding:
    return Finding(
        rule.id, rule.title, severity, rule.category, 20, "m", Location("f", where), refs(usages)
    )


def test_a_clean_spec_scores_100() -> None:
    s = compute_score([], RULES)
    assert (s.total, s.security, s.data) == (100, 30, 70)
    assert s.categories[Owasp.API2].score == 100
    assert s.categories[Owasp.API4].score == 100


def test_info_findings_cost_nothing() -> None:
    assert compute_score([finding(SEC, Severity.INFO, 300)], RULES).total == 100


@pytest.mark.parametrize(
    "severity", [Severity.LOW, Severity.MEDIUM, Severity.HIGH, Severity.CRITICAL]
)
@pytest.mark.parametrize("rule", RULES)
def test_any_other_finding_costs_at_least_a_point(severity: Severity, rule: Rule) -> None:
    assert compute_score([finding(rule, severity, 0)], RULES).total < 100


def test_more_usages_weigh_more_but_sublinearly() -> None:
    one = penalty(finding(SEC, Severity.HIGH, 1))
    many = penalty(finding(SEC, Severity.HIGH, 300))
    assert one < many < 300 * one
    assert many < 10 * one  # log2: 300 operations weigh ~4.6x one operation
    single = compute_score([finding(SEC, Severity.HIGH, 1)], RULES).total
    shared = compute_score([finding(SEC, Severity.HIGH, 300)], RULES).total
    separate = compute_score(
        [finding(SEC, Severity.HIGH, 1, f"/x{i}") for i in range(300)], RULES
    ).total
    assert separate < shared < single


def test_severity_orders_the_cost() -> None:
    totals = [
        compute_score([finding(DATA, sev, 5)], RULES).total
        for sev in (Severity.LOW, Severity.MEDIUM, Severity.HIGH, Severity.CRITICAL)
    ]
    assert totals == sorted(totals, reverse=True)
    assert len(set(totals)) == 4


def test_groups_have_their_budgets() -> None:
    s = compute_score([finding(SEC, Severity.CRITICAL, 50) for _ in range(30)], RULES)
    assert s.data == 70 and s.security < 30
    s = compute_score([finding(DATA, Severity.CRITICAL, 50) for _ in range(30)], RULES)
    assert s.security == 30 and s.data < 70
    assert BUDGETS == {"security": 30, "data": 70}


def test_the_score_never_goes_below_zero_and_adds_up() -> None:
    many = [finding(r, Severity.CRITICAL, 1000, f"/{i}") for r in RULES for i in range(2000)]
    s = compute_score(many, RULES)
    assert s.total == s.security + s.data
    assert 0 <= s.total < 5


def test_a_group_loses_half_its_points_at_its_half_penalty() -> None:
    assert group_points(30, 0) == 30
    assert group_points(30, 4 * 30) == 15
    assert group_points(70, 4 * 70) == 35


def test_adding_a_finding_never_raises_the_score() -> None:
    findings: list[Finding] = []
    last = 100
    for i, sev in enumerate([Severity.LOW, Severity.HIGH, Severity.MEDIUM] * 10):
        findings.append(finding(RULES[i % 2], sev, i, f"/{i}"))
        total = compute_score(findings, RULES).total
        assert total <= last
        last = total


def test_categories_without_a_rule_are_not_assessed() -> None:
    s = compute_score([finding(SEC, Severity.HIGH)], RULES)
    assert s.categories[Owasp.API1].score is None
    assert s.categories[Owasp.API2].findings == 1
    assert s.categories[Owasp.API2].score is not None and s.categories[Owasp.API2].score < 100
    assert s.categories[Owasp.API4].score == 100


def test_a_finding_of_an_unknown_rule_counts_as_security() -> None:
    stray = make_rule("stray", lambda d: [], category=Owasp.API2)
    s = compute_score([finding(stray, Severity.HIGH)], RULES)
    assert s.security < 30 and s.data == 70
