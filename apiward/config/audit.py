"""The ``audit:`` section of ``apiward.yaml``."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from apiward.config.fields import FailOn, RuleSetting, Section, known_name
from apiward.core import Severity

__all__ = ["AuditSection", "RuleId"]

RuleId = Annotated[str, Field(pattern=r"^[a-z0-9]+(-[a-z0-9]+)*$"), known_name("audit rule")]


class AuditSection(Section):
    """Settings of `apiward audit`. Command-line options override them."""

    rules: dict[RuleId, RuleSetting] = Field(
        default_factory=dict,
        description="Per-rule setting by rule id: `off`, `on`, or a severity to report it at.",
    )
    fail_on: FailOn = Field(
        default="high",
        description="Exit 1 when a finding at or above this severity is reported "
        "(`none`: findings never fail the run).",
    )
    min_score: int | None = Field(
        default=None, ge=0, le=100, description="Exit 1 when a spec scores below this (0-100)."
    )
    baseline: str | None = Field(
        default=None,
        description="Baseline file of accepted findings (relative to this config file): "
        "only findings not in it are reported.",
    )

    @property
    def disabled(self) -> frozenset[str]:
        return frozenset(k for k, v in self.rules.items() if v == "off")

    @property
    def severities(self) -> dict[str, Severity]:
        return {k: Severity(v) for k, v in self.rules.items() if v not in ("off", "on")}

    @property
    def fail_on_severity(self) -> Severity | None:
        return None if self.fail_on == "none" else Severity(self.fail_on)
