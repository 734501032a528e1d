"""What an audit runs: which rules, at which severity, against which baseline."""

from __future__ import annotations

import dataclasses
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field

from apiward.audit.rule import RULES, Rule
from apiward.config import AuditSection
from apiward.core import Severity

__all__ = ["AuditConfig"]


@dataclass(frozen=True, slots=True)
class AuditConfig:
    """Options of one audit.

    ``only`` runs just those rules (even ones ``disabled`` turns off: naming a
    rule explicitly wins); ``severities`` overrides rules' severities;
    ``baseline`` holds the fingerprints of accepted findings, which are set aside.
    """

    only: frozenset[str] | None = None
    disabled: frozenset[str] = frozenset()
    severities: Mapping[str, Severity] = field(default_factory=dict)
    baseline: frozenset[str] | None = None

    @classmethod
    def from_section(
        cls,
        section: AuditSection,
        *,
        only: Collection[str] | None = None,
        baseline: Collection[str] | None = None,
    ) -> AuditConfig:
        """Combine the ``audit:`` section of ``apiward.yaml`` with command-line choices."""
        return cls(
            only=frozenset(only) if only else None,
            disabled=section.disabled,
            severities=section.severities,
            baseline=frozenset(baseline) if baseline is not None else None,
        )

    def selected_rules(self) -> list[Rule]:
        """The rules to run, in registry order, with severities overridden.

        Raises :class:`~apiward.errors.UsageError` for an unknown rule id.
        """
        for rule_id in (*(self.only or ()), *self.disabled, *self.severities):
            RULES.get(rule_id)
        out = []
        for rule in RULES:
            if self.only is not None:
                if rule.id not in self.only:
                    continue
            elif rule.id in self.disabled:
                continue
            severity = self.severities.get(rule.id, rule.severity)
            out.append(
                rule if severity == rule.severity else dataclasses.replace(rule, severity=severity)
            )
        return out
