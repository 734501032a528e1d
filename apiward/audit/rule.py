"""What an audit rule is, and the registry that holds them.

A rule is one function ``(doc) -> Iterable[Hit]`` decorated with :func:`rule`.
Its name (underscores as dashes) is its id, used in config, suppressions and
reports; the first line of its docstring is the title users see and the rest
its description. Adding a rule is adding one file under ``apiward/audit/rules``.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from apiward.core import Document, Location, OperationRef, Owasp, Registry, Severity

__all__ = ["RULES", "Hit", "Rule", "rule"]


@dataclass(frozen=True, slots=True)
class Hit:
    """One occurrence a rule found: the root cause's location and a message.

    ``usages`` overrides the operations affected; by default they are derived
    from the location (every operation that uses it, through ``$ref`` too).
    Hits of one rule at the same location are merged into one finding.
    """

    location: Location
    message: str
    usages: tuple[OperationRef, ...] | None = None


Check = Callable[[Document], Iterable[Hit]]


@dataclass(frozen=True, slots=True)
class Rule:
    id: str
    title: str
    description: str
    severity: Severity
    category: Owasp
    cwe: int
    remediation: str
    group: str  # "security" or "data" (data validation); weights the score
    check: Check

    def __call__(self, doc: Document) -> Iterable[Hit]:
        return self.check(doc)


RULES: Registry[Rule] = Registry("audit rule")


def rule(
    *,
    severity: Severity,
    category: Owasp,
    cwe: int,
    remediation: str,
    group: str = "security",
) -> Callable[[Check], Rule]:
    """Register the decorated function as an audit rule."""
    if group not in ("security", "data"):
        raise ValueError(f"group must be 'security' or 'data', not {group!r}")

    def decorate(func: Check) -> Rule:
        doc = inspect.getdoc(func)
        if not doc:
            raise ValueError(f"audit rule {func.__name__} needs a docstring: its title")
        title, _, description = doc.partition("\n")
        unit = Rule(
            id=func.__name__.replace("_", "-"),
            title=title.strip().rstrip("."),
            description=description.strip(),
            severity=severity,
            category=category,
            cwe=cwe,
            remediation=remediation,
            group=group,
            check=func,
        )
        return RULES.register(unit.id, unit)

    return decorate
