"""What one scan is asked to do: the config's ``scan:`` section plus command-line overrides."""

from __future__ import annotations

from dataclasses import dataclass, field

from apiward.config import IdentitySection, ScanSection
from apiward.core import Severity
from apiward.errors import UsageError
from apiward.scan.check import CHECKS, Check

__all__ = ["ScanOptions"]


@dataclass(frozen=True, slots=True)
class ScanOptions:
    """Everything the engine needs besides the spec. Build one with :meth:`from_section`."""

    target: str
    identities: dict[str, IdentitySection] = field(default_factory=dict)
    admin_operations: tuple[str, ...] = ()
    public_operations: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()
    safe: bool = False
    budget: int = 5000
    concurrency: int = 8
    timeout: float = 10.0
    rate: float | None = None
    select: tuple[str, ...] = ()  # check ids to run (empty: all)
    disabled: frozenset[str] = frozenset()
    severities: dict[str, Severity] = field(default_factory=dict)
    request_log: str | None = None
    state_file: str | None = None
    resume: bool = False
    canary: bool = True

    @classmethod
    def from_section(cls, section: ScanSection, target: str, **overrides: object) -> ScanOptions:
        sev = {k: Severity(v) for k, v in section.checks.items() if v not in ("off", "on")}
        base = cls(
            target=target,
            identities=dict(section.identities),
            admin_operations=tuple(section.admin_operations),
            public_operations=tuple(section.public_operations),
            exclude=tuple(section.exclude),
            safe=section.safe,
            budget=section.budget,
            concurrency=section.concurrency,
            timeout=section.timeout,
            rate=section.rate,
            disabled=section.disabled,
            severities=sev,
            request_log=section.request_log,
        )
        fields = {name: getattr(base, name) for name in cls.__dataclass_fields__}
        fields.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**fields)

    def selected_checks(self) -> list[Check]:
        """The checks to run, in registry order. Raises UsageError for an unknown id."""
        for cid in (*self.select, *self.disabled):
            if cid not in CHECKS:
                raise UsageError(f"unknown scan check {cid!r} (see: apiward scan --list-checks)")
        chosen = [c for c in CHECKS if (not self.select or c.id in self.select)]
        return [
            c for c in chosen if c.id not in self.disabled and not (self.safe and c.destructive)
        ]
