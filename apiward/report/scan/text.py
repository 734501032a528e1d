"""The terminal report of a scan (``--format text``): what was scanned, findings, verdict.

Findings are grouped by OWASP category, worst first, each with the operation,
who sent the request, the message and the ``curl`` that reproduces it;
``--limit`` findings per check (``--verbose``: all of them, with evidence and
the fix). Those at or above ``--fail-on`` are marked, and the verdict closes
the report where the eye lands. Everything the spec or the server wrote passes
through :func:`clean`, so a response cannot drive the terminal.
"""

from __future__ import annotations

from rich.console import Console
from rich.padding import Padding
from rich.text import Text

from apiward.core import Finding, Owasp, Severity
from apiward.report.common import ReportOptions, clean, display_path, text_console, where
from apiward.report.console import STYLE
from apiward.report.scan import scan_reporter
from apiward.report.scan.common import (
    by_category,
    check_index,
    checks_run,
    fails,
    operation,
    plural,
    severity_counts,
    shown_per_check,
    verdict,
)
from apiward.scan.result import ScanResult

FAIL_MARK = "✗"
_SEVERITY_WIDTH = max(len(s.value) for s in Severity)
_INDENT = 6


@scan_reporter("text")
def text(result: ScanResult, options: ReportOptions, fail_on: Severity | None) -> str:
    """Human-readable report, coloured when ``options.color``."""
    con, buf = text_console(options)
    _header(con, result, options, fail_on)
    groups = by_category(result.findings)
    for category, findings in groups:
        con.print()
        _category(con, result, category, findings, options, fail_on)
    if not groups:
        con.print()
        con.print(Text("No findings.", style="green"))
    _problems(con, result, options)
    con.print()
    con.print(_summary(result))
    outcome = verdict(result, fail_on)
    style = {"PASS": "bold green", "FAIL": "bold red"}.get(outcome.status, "bold yellow")
    con.print(Text(outcome.line(), style=style))
    # rich pads lines to the width; trailing blanks only make noise in logs
    return "\n".join(line.rstrip() for line in buf.getvalue().splitlines()) + "\n"


def _header(
    con: Console, result: ScanResult, options: ReportOptions, fail_on: Severity | None
) -> None:
    con.print(Text.assemble(("apiward scan  ", "bold"), (clean(result.target), "bold underline")))
    facts = [f"spec {clean(display_path(result.spec, options.cwd))}"]
    if result.title:
        facts.insert(0, clean(result.title))
    if result.identities:
        facts.append("as " + ", ".join(clean(i) for i in result.identities))
    facts.append(f"{plural(result.requests, 'request')} in {result.duration:.1f}s")
    facts.append(plural(len(checks_run(result)), "check"))
    con.print(Text(" · ".join(facts), style="dim"))
    if fail_on is not None:
        gate = f"findings at or above {fail_on.value} fail the run (marked {FAIL_MARK})"
        con.print(Text(gate, style="dim"))


def _category(
    con: Console,
    result: ScanResult,
    category: Owasp,
    findings: list[Finding],
    options: ReportOptions,
    fail_on: Severity | None,
) -> None:
    con.print(
        Text.assemble(
            (f"{category.value} {category.title}", "bold"), (f"  ({len(findings)})", "dim")
        )
    )
    shown, left = shown_per_check(findings, options.per_rule)
    for f in shown:
        _finding(con, f, options, fail_on)
    if left:
        more = "; ".join(f"{n} more of {cid}" for cid, n in left.items())
        con.print(Text(f"  … {more} (--limit 0 or --verbose shows all)", style="dim"))
    if options.verbose:
        checks = check_index(result)
        for cid in dict.fromkeys(f.rule_id for f in findings):
            check = checks[cid]
            if check.remediation:
                con.print(Text(f"  fix ({cid}): {clean(check.remediation)}", style="green"))


def _finding(con: Console, f: Finding, options: ReportOptions, fail_on: Severity | None) -> None:
    mark = FAIL_MARK if fails(f, fail_on) else " "
    head = Text.assemble(
        f"{mark} ",
        (f.severity.value.upper(), STYLE[f.severity]),
        " " * (_SEVERITY_WIDTH - len(f.severity.value) + 2),
        (f.rule_id, "bold"),
        "  ",
        clean(f.title),
    )
    con.print(Padding(head, (0, 0, 0, 2)))
    facts = [clean(operation(f))]
    if f.identity:
        facts.append(f"as {clean(f.identity)}")
    facts.append(f"{clean(f.confidence)} confidence")
    if f.location is not None:
        facts.append(where(f.location, options.cwd))
    con.print(Padding(Text(" · ".join(facts), style="blue"), (0, 0, 0, _INDENT)))
    if options.verbose:
        con.print(Text(f"      CWE-{f.cwe} · fingerprint {f.fingerprint}", style="dim"))
    con.print(Padding(Text(clean(f.message)), (0, 0, 0, _INDENT)))
    if f.curl:
        # soft wrap: the terminal folds the line, so a copied command stays one line
        con.print(Text("      $ " + clean(f.curl), style="cyan"), soft_wrap=True)
    if options.verbose:
        for i, ev in enumerate(f.evidence, 1):
            label = f"      evidence {i}" + (f": {clean(ev.note)}" if ev.note else "")
            con.print(Text(label, style="dim"))
            # curl -v's arrows: what was sent, what came back
            for arrow, part in ((">", ev.request), ("<", ev.response)):
                if part:
                    body = "\n".join(f"        {arrow} {line}" for line in _lines(part))
                    con.print(Text(body, style="dim"), soft_wrap=True)


def _lines(text: str) -> list[str]:
    return clean(text.replace("\r\n", "\n")).split("\n")


def _problems(con: Console, result: ScanResult, options: ReportOptions) -> None:
    if result.errors or result.skipped or result.warnings or result.budget_exhausted:
        con.print()
    for err in result.errors:
        con.print(
            Text(
                f"error: check {err.check_id} crashed: {clean(err.message)}; its findings are "
                "missing",
                style="bold red",
            )
        )
        if options.verbose and err.traceback:
            con.print(Text(clean(err.traceback.rstrip()), style="dim"))
    for cid, why in result.skipped.items():
        con.print(Text(f"skipped: {cid}: {clean(why)}", style="dim"))
    if result.budget_exhausted:
        con.print(
            Text(
                f"warning: the request budget ran out after {result.requests} requests; "
                "some checks did not finish (raise --budget and --resume)",
                style="yellow",
            )
        )
    for warning in result.warnings:
        con.print(Text(f"warning: {clean(warning)}", style="yellow"))


def _summary(result: ScanResult) -> Text:
    counts = severity_counts(result.findings)
    detail = ", ".join(f"{n} {s.value}" for s, n in counts.items() if n)
    parts = [plural(len(result.findings), "finding") + (f" ({detail})" if detail else "")]
    if result.baselined:
        parts.append(f"{len(result.baselined)} more in the baseline")
    if result.resumed:
        parts.append(f"{result.resumed} carried over from the interrupted run")
    ran = len(checks_run(result))
    checks = plural(ran, "check") + " ran"
    if result.skipped:
        checks += f", {len(result.skipped)} skipped"
    if result.errors:
        checks += f", {len({e.check_id for e in result.errors})} crashed"
    parts.append(checks)
    return Text(" · ".join(parts), style="bold")
