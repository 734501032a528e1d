"""Every rule is documented, tested both ways, and listed in docs/rules.md."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from apiward.audit import RULES
from apiward.audit.reference import rules_reference

ROOT = Path(__file__).resolve().parents[2]
RULE_TESTS = ROOT / "tests" / "audit" / "rules"


@pytest.mark.parametrize("rule_id", RULES.names())
def test_rule_has_a_title_description_and_remediation(rule_id: str) -> None:
    rule = RULES.get(rule_id)
    assert rule.title and rule.description and rule.remediation
    assert rule.cwe > 0


@pytest.mark.parametrize("rule_id", RULES.names())
def test_rule_has_tests_that_fire_and_that_stay_quiet(rule_id: str) -> None:
    path = RULE_TESTS / f"test_{rule_id.replace('-', '_')}.py"
    assert path.exists(), f"{rule_id} has no test file {path.name}"
    names = [
        node.name
        for node in ast.walk(ast.parse(path.read_text()))
        if isinstance(node, ast.FunctionDef) and node.name.startswith("test_")
    ]
    fires = [n for n in names if "quiet" not in n and "ignore" not in n]
    quiet = [n for n in names if "quiet" in n or "ignore" in n or "safe" in n]
    assert fires, f"{path.name}: no test that the rule fires"
    assert quiet, f"{path.name}: no test named *quiet* proving it stays quiet on a safe case"


def test_rules_reference_is_up_to_date() -> None:
    committed = (ROOT / "docs" / "rules.md").read_text()
    assert committed == rules_reference(), "run: python -m apiward.audit.reference > docs/rules.md"
