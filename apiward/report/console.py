"""The terminal report (``--format text``): a per-rule summary first, details below, score last.

Built for specs with thousands of findings: the summary table has one row per
rule, the details show ``--limit`` findings per rule (``--verbose``: all of
them, with every operation and the remediation), and the score and the verdict
close the report where the eye lands.
"""

from __future__ import annotations

from rich.console import Console
from rich.table import Table
from rich.text import Text

from apiward.audit.gate import AuditRun
from apiward.audit.result import AuditResult
from apiward.core import Finding, Severity
from apiward.report import reporter
from apiward.report.common import (
    ReportOptions,
    RuleGroup,
    by_rule,
    clean,
    display_path,
    text_console,
    where,
)
from apiward.report.console_score import score_lines

STYLE = {
    Severity.CRITICAL: "bold white on red",
    Severity.HIGH: "bold red",
    Severity.MEDIUM: "yellow",
    Severity.LOW: "cyan",
    Severity.INFO: "dim",
}
_USAGES_SHOWN = 3


@reporter("text")
def text(run: AuditRun, options: ReportOptions) -> str:
    """Human-readable report, coloured when ``options.color``."""
    con, buf = text_console(options)
    for i, result in enumerate(run.results):
        if i:
            con.print()
        _result(con, result, run, options)
    if len(run.results) + len(run.failures) > 1:
        con.print()
        con.print(_overall(run))
    # rich pads table cells to the column width; trailing blanks only make noise in logs
    return "\n".join(line.rstrip() for line in buf.getvalue().splitlines()) + "\n"


def _result(con: Console, result: AuditResult, run: AuditRun, options: ReportOptions) -> None:
    name = clean(display_path(result.spec, options.cwd))
    head = Text.assemble(("apiward audit  ", "bold"), (name, "bold underline"))
    con.print(head)
    facts = [
        f"OpenAPI {result.version}",
        f"{result.operations} operation{'s' if result.operations != 1 else ''}",
        f"{len(result.rules)} rules",
    ]
    if result.title:
        facts.insert(0, clean(result.title))
    con.print(Text(" · ".join(facts), style="dim"))
    groups = by_rule(result)
    if groups:
        con.print()
        con.print(_summary(groups))
        for group in groups:
            _details(con, group, options)
    else:
        con.print(Text("No findings.", style="green"))
    for err in result.rule_errors:
        kind = "failed (a bug in apiward)" if err.internal else "stopped on the spec"
        con.print(
            Text(
                f"error: rule {err.rule_id} {kind}: {clean(err.message)}; its findings are "
                f"missing (turn it off with `rules: {{{err.rule_id}: off}}` in apiward.yaml)",
                style="bold red",
            )
        )
        if options.verbose and err.traceback:
            con.print(Text(err.traceback.rstrip(), style="dim"))
    for warning in result.warnings:
        con.print(Text(f"warning: {clean(warning)}", style="yellow"))
    con.print()
    for line in score_lines(result):
        con.print(line)
    con.print(_verdict(result, run))
    if options.verbose and result.timings:
        slow = sorted(result.timings.items(), key=lambda kv: -kv[1])[:5]
        con.print(
            Text("slowest rules: " + ", ".join(f"{k} {v * 1000:.0f} ms" for k, v in slow), "dim")
        )


def _summary(groups: list[RuleGroup]) -> Table:
    table = Table(box=None, pad_edge=False, header_style="bold", show_edge=False)
    table.add_column("Severity")
    table.add_column("Rule", overflow="fold")
    table.add_column("OWASP")
    table.add_column("Findings", justify="right")
    table.add_column("Operations", justify="right")
    for g in groups:
        sev = g.rule.severity
        table.add_row(
            Text(sev.value.upper(), style=STYLE[sev]),
            g.rule.id,
            g.rule.category.short,
            str(len(g.findings)),
            str(g.operations),
        )
    return table


def _details(con: Console, group: RuleGroup, options: ReportOptions) -> None:
    rule = group.rule
    con.print()
    n = len(group.findings)
    con.print(
        Text.assemble(
            (rule.severity.value.upper(), STYLE[rule.severity]),
            "  ",
            (rule.id, "bold"),
            "  ",
            clean(rule.title),
            (f"  ({n})", "dim"),
        )
    )
    if options.verbose:
        con.print(Text(f"  {rule.category.value} {rule.category.title} · CWE-{rule.cwe}", "dim"))
    shown = group.findings if options.per_rule is None else group.findings[: options.per_rule]
    for f in shown:
        _finding(con, f, options)
    if len(shown) < n:
        con.print(
            Text(f"  … {n - len(shown)} more (--limit 0 or --verbose shows all)", style="dim")
        )
    if options.verbose and rule.remediation:
        con.print(Text("  fix: " + clean(rule.remediation), style="green"))


def _finding(con: Console, f: Finding, options: ReportOptions) -> None:
    con.print(Text("  " + where(f.location, options.cwd), style="blue"))
    if options.verbose and f.location is not None and f.location.line is not None:
        con.print(Text(f"    at {clean(f.location.pointer) or '/'}", style="dim"))
    con.print(Text("    " + clean(f.message)))
    usages = f.usages
    if not usages or (len(usages) == 1 and usages[0].key in f.message):
        return
    keys = [clean(u.key) for u in (usages if options.verbose else usages[:_USAGES_SHOWN])]
    more = len(usages) - len(keys)
    label = f"    affects {len(usages)} operation{'s' if len(usages) != 1 else ''}: "
    con.print(Text(label + ", ".join(keys) + (f", … {more} more" if more else ""), style="dim"))


def _verdict(result: AuditResult, run: AuditRun) -> Text:
    reasons = run.reasons(result)
    if reasons:
        return Text("FAIL: " + "; ".join(reasons), style="bold red")
    if result.rule_errors:
        return Text("INCOMPLETE: some rules failed (see above)", style="bold red")
    return Text("PASS", style="bold green")


def _overall(run: AuditRun) -> Text:
    failed = sum(1 for r in run.results if run.reasons(r))
    parts = [f"{len(run.results)} spec{'s' if len(run.results) != 1 else ''} audited"]
    if failed:
        parts.append(f"{failed} over the bar")
    if run.failures:
        parts.append(f"{len(run.failures)} could not be read")
    style = "bold green" if run.exit_code() == 0 else "bold red"
    return Text(", ".join(parts), style=style)
