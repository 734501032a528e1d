"""What reporters share: options, paths for display, safe text, findings grouped by rule."""

from __future__ import annotations

import io
import os
import re
from dataclasses import dataclass, field

from rich.console import Console

from apiward.audit.result import AuditResult
from apiward.audit.rule import Rule
from apiward.core import Finding, Location

__all__ = [
    "ReportOptions",
    "RuleGroup",
    "by_rule",
    "clean",
    "display_path",
    "reflow",
    "text_console",
    "where",
]

# C0/C1 controls but tab and newline, bidi overrides, line separators, XML-invalid
# noncharacters and lone surrogates (JSON can carry them; UTF-8 cannot)
_CONTROL = re.compile(
    "[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069\ufffe\uffff\ud800-\udfff]"
)


@dataclass(frozen=True, slots=True)
class ReportOptions:
    """How to render: ``limit`` findings per rule in human formats (0: all), colours, width.

    ``cwd`` is the directory paths are shown relative to (and SARIF's ``%SRCROOT%``).
    """

    limit: int = 3
    verbose: bool = False
    color: bool = False
    width: int = 100
    cwd: str = field(default_factory=os.getcwd)

    @property
    def per_rule(self) -> int | None:
        """How many findings of one rule to detail (None: all)."""
        return None if self.verbose or self.limit <= 0 else self.limit


def text_console(options: ReportOptions) -> tuple[Console, io.StringIO]:
    """A rich console writing into a buffer, coloured only when ``options.color``.

    Markup and emoji are off: report text comes from specs and servers, never rich syntax.
    """
    buf = io.StringIO()
    con = Console(
        file=buf,
        force_terminal=options.color,
        no_color=not options.color,
        color_system="standard" if options.color else None,
        width=options.width,
        highlight=False,
        emoji=False,
        markup=False,
    )
    return con, buf


def clean(text: str) -> str:
    """``text`` with control and bidi characters escaped, so spec content cannot
    drive the terminal (ANSI escapes), break XML, or hide text (Trojan Source)."""
    return _CONTROL.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


def reflow(text: str) -> str:
    """Docstring-wrapped text as paragraphs: single newlines joined, blank lines kept."""
    return "\n\n".join(" ".join(p.split()) for p in text.split("\n\n") if p.strip())


def display_path(file: str, cwd: str) -> str:
    """A file as users should see it: relative to ``cwd`` when under it, else as is."""
    if file.startswith(("http://", "https://", "<")) or not os.path.isabs(file):
        return file
    rel = os.path.relpath(file, cwd)
    return file if rel.startswith("..") else rel


def where(loc: Location | None, cwd: str) -> str:
    """``file:line:col`` when the position is known, else ``file#/pointer``."""
    if loc is None:
        return "(no location)"
    path = clean(display_path(loc.file, cwd))
    if loc.line is not None:
        return f"{path}:{loc.line}:{loc.column or 1}"
    return f"{path}#{clean(loc.pointer) or '/'}"


@dataclass(slots=True)
class RuleGroup:
    """The reported findings of one rule, for the per-rule summary and details."""

    rule: Rule
    findings: list[Finding]

    @property
    def operations(self) -> int:
        """Distinct operations affected by the rule's findings."""
        return len({u.key for f in self.findings for u in f.usages})


def by_rule(result: AuditResult) -> list[RuleGroup]:
    """Findings grouped by rule: worst severity first, then most findings, then id."""
    groups: dict[str, RuleGroup] = {}
    rules = {r.id: r for r in result.rules}
    for f in result.findings:
        group = groups.get(f.rule_id)
        if group is None:
            rule = rules.get(f.rule_id)
            if rule is None:  # a finding of a rule that is not listed: describe it from itself
                rule = Rule(
                    f.rule_id,
                    f.title,
                    "",
                    f.severity,
                    f.category,
                    f.cwe,
                    f.remediation,
                    "security",
                    lambda doc: (),
                )
            group = groups[f.rule_id] = RuleGroup(rule, [])
        group.findings.append(f)
    return sorted(
        groups.values(), key=lambda g: (-g.rule.severity.rank, -len(g.findings), g.rule.id)
    )
