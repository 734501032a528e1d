"""The closing block of the terminal report: score, OWASP breakdown and counts."""

from __future__ import annotations

from rich.table import Table
from rich.text import Text

from apiward.audit.result import AuditResult


def _style(score: int, out_of: int = 100) -> str:
    ratio = score / out_of
    return "bold green" if ratio >= 0.9 else "bold yellow" if ratio >= 0.6 else "bold red"


def score_lines(result: AuditResult) -> list[Text | Table]:
    """Score line, one row per assessed OWASP category, the uncovered ones, and counts."""
    s = result.score
    out: list[Text | Table] = [
        Text.assemble(
            ("Score ", "bold"),
            (f"{s.total}/100", _style(s.total)),
            ("   security ", "dim"),
            (f"{s.security}/30", _style(s.security, 30)),
            ("   data validation ", "dim"),
            (f"{s.data}/70", _style(s.data, 70)),
            ("" if result.complete else "   (incomplete: a rule failed)", "red"),
        )
    ]
    table = Table(box=None, show_header=False, pad_edge=False, show_edge=False)
    table.add_column(style="bold")
    table.add_column()
    table.add_column(justify="right")
    table.add_column(style="dim")
    missing = []
    for cat, cs in s.categories.items():
        if cs.score is None:
            missing.append(cat.short)
            continue
        found = f"{cs.findings} finding{'s' if cs.findings != 1 else ''}" if cs.findings else ""
        table.add_row(f"  {cat.short}", cat.title, Text(str(cs.score), _style(cs.score)), found)
    out.append(table)
    if missing:
        out.append(Text(f"  not assessed (no rule ran): {', '.join(missing)}", style="dim"))
    counts = " · ".join(f"{n} {sev.value}" for sev, n in result.counts.items() if n)
    line = Text.assemble(("Findings ", "bold"), counts or "none")
    aside = []
    if result.ignored:
        aside.append(f"{result.ignored} by x-apiward-ignore")
    if result.baselined:
        aside.append(f"{result.baselined} in the baseline")
    if aside:
        line.append("   set aside: " + ", ".join(aside), style="dim")
    if result.baseline_fixed:
        line.append(f"   {result.baseline_fixed} baseline entries fixed", style="green")
    out.append(line)
    return out
