"""Findings: what audit rules and scan checks report, and where it points."""

from __future__ import annotations

import enum
import hashlib
from dataclasses import dataclass, field


class Severity(enum.Enum):
    """How bad a finding is. Ordered: ``Severity.HIGH > Severity.LOW``."""

    INFO = "info"
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"
    CRITICAL = "critical"

    @property
    def rank(self) -> int:
        return _RANK[self]

    def __lt__(self, other: object) -> bool:
        if not isinstance(other, Severity):
            return NotImplemented
        return self.rank < other.rank

    def __le__(self, other: object) -> bool:
        if not isinstance(other, Severity):
            return NotImplemented
        return self.rank <= other.rank

    @classmethod
    def parse(cls, text: str) -> Severity:
        try:
            return cls(text.strip().lower())
        except ValueError:
            choices = ", ".join(s.value for s in cls)
            raise ValueError(f"unknown severity {text!r} (choose from {choices})") from None


_RANK = {s: i for i, s in enumerate(Severity)}


class Owasp(enum.Enum):
    """OWASP API Security Top 10, 2023 edition."""

    API1 = "API1:2023"
    API2 = "API2:2023"
    API3 = "API3:2023"
    API4 = "API4:2023"
    API5 = "API5:2023"
    API6 = "API6:2023"
    API7 = "API7:2023"
    API8 = "API8:2023"
    API9 = "API9:2023"
    API10 = "API10:2023"

    @property
    def title(self) -> str:
        return _OWASP_TITLES[self]

    @property
    def short(self) -> str:
        return self.name


_OWASP_TITLES = {
    Owasp.API1: "Broken Object Level Authorization",
    Owasp.API2: "Broken Authentication",
    Owasp.API3: "Broken Object Property Level Authorization",
    Owasp.API4: "Unrestricted Resource Consumption",
    Owasp.API5: "Broken Function Level Authorization",
    Owasp.API6: "Unrestricted Access to Sensitive Business Flows",
    Owasp.API7: "Server Side Request Forgery",
    Owasp.API8: "Security Misconfiguration",
    Owasp.API9: "Improper Inventory Management",
    Owasp.API10: "Unsafe Consumption of APIs",
}


@dataclass(frozen=True, slots=True)
class Location:
    """A place in an API document: a file (or URL), a JSON pointer, and a line/column if known."""

    file: str
    pointer: str
    line: int | None = None
    column: int | None = None

    def __str__(self) -> str:
        pos = f":{self.line}:{self.column or 1}" if self.line is not None else ""
        return f"{self.file}{pos}#{self.pointer or '/'}"


@dataclass(frozen=True, slots=True)
class OperationRef:
    """An operation a finding concerns, by its key (``GET /users/{id}``) and location."""

    key: str
    location: Location


@dataclass(frozen=True, slots=True)
class Evidence:
    """What proves a finding: excerpts of a request and response (secrets masked), or a note."""

    request: str | None = None
    response: str | None = None
    note: str | None = None


@dataclass(slots=True)
class Finding:
    """One problem, grouped by rule and root cause.

    ``location`` is the root cause (the schema, scheme or operation to fix);
    ``usages`` are the operations it affects. A shared schema used by 300
    operations is one finding with 300 usages.
    """

    rule_id: str
    title: str
    severity: Severity
    category: Owasp
    cwe: int
    message: str
    location: Location | None = None
    usages: list[OperationRef] = field(default_factory=list)
    remediation: str = ""
    confidence: str = "certain"
    evidence: list[Evidence] = field(default_factory=list)
    curl: str | None = None
    identity: str | None = None
    key: str = ""  # what tells two findings of one rule at one location apart (scan findings)

    @property
    def fingerprint(self) -> str:
        """Stable across runs and line moves: rule id + pointer + key (or the message)."""
        where = self.location.pointer if self.location is not None else ""
        basis = "\x1f".join((self.rule_id, where, self.key or ("" if where else self.message)))
        return hashlib.sha256(basis.encode()).hexdigest()[:16]
