"""Temporary rules for engine tests: registered for one test, then removed."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager

from apiward.audit.rule import RULES, Hit, Rule
from apiward.core import Document, Owasp, Severity


def make_rule(
    rule_id: str,
    check: Callable[[Document], Iterable[Hit]],
    *,
    severity: Severity = Severity.MEDIUM,
    category: Owasp = Owasp.API8,
    group: str = "security",
) -> Rule:
    return Rule(
        id=rule_id,
        title=f"Test rule {rule_id}",
        description="A rule that exists only in tests.",
        severity=severity,
        category=category,
        cwe=20,
        remediation="Fix it.",
        group=group,
        check=check,
    )


@contextmanager
def registered(*rules: Rule) -> Iterator[list[str]]:
    """Register ``rules`` for the duration of the block (the registry has no unregister)."""
    items = RULES._items
    for r in rules:
        items[r.id] = r
    try:
        yield [r.id for r in rules]
    finally:
        for r in rules:
            items.pop(r.id, None)
