"""``apiward audit``: audit API documents, report, and gate CI on the result."""

from __future__ import annotations

import os
import sys

import click

from apiward.audit import RULES, AuditConfig, audit
from apiward.audit.gate import AuditRun, Gate, SpecFailure
from apiward.audit.result import AuditResult
from apiward.cli import cli
from apiward.cli.common import emit, load_baseline, report_options, split_ids
from apiward.cli.options import baseline_options, config_option, output_options, terminal_options
from apiward.cli.rules_list import list_rules
from apiward.config import AuditSection, find_config, load_config
from apiward.core import Limits, Severity, load
from apiward.core.baseline import Baseline
from apiward.core.baseline import write_baseline as save_baseline
from apiward.errors import InputError, UsageError
from apiward.report import FORMATS, ReportOptions, render
from apiward.report.common import display_path

SEVERITIES = [s.value for s in Severity]


@cli.command("audit")
@click.argument("specs", nargs=-1, metavar="SPEC...")
@output_options(
    FORMATS, "Write the report to FILE (the terminal then gets a one-line summary per spec)."
)
@config_option("")
@click.option(
    "-r",
    "--rule",
    "only",
    multiple=True,
    metavar="ID",
    help="Run only this rule (repeat, or separate ids with commas).",
)
@click.option(
    "--min-score",
    type=click.IntRange(0, 100),
    metavar="N",
    help="Exit 1 when a spec scores below N.",
)
@baseline_options(
    "high, or audit.fail-on",
    "Write the current findings to FILE as the new baseline (they then do not fail the run).",
)
@terminal_options("rule", "Every finding, operation and remediation.")
@click.option(
    "--max-bytes",
    type=click.IntRange(min=1),
    default=Limits().max_bytes,
    show_default=True,
    help="Refuse spec files larger than this (each file, $ref'd ones included).",
)
@click.option(
    "--list-rules",
    "show_rules",
    is_flag=True,
    help="List the rules (id, severity, category, title) and exit.",
)
def audit_command(
    specs: tuple[str, ...],
    fmt: str,
    output: str | None,
    config_path: str | None,
    only: tuple[str, ...],
    fail_on: str | None,
    min_score: int | None,
    baseline: str | None,
    write_baseline: str | None,
    limit: int,
    verbose: bool,
    quiet: bool,
    max_bytes: int,
    show_rules: bool,
) -> None:
    """Audit OpenAPI/Swagger documents against the OWASP API Security Top 10 (2023).

    \b
    Examples:
      apiward audit openapi.yaml
      apiward audit api/*.yaml --format sarif --output apiward.sarif
      apiward audit openapi.yaml --baseline apiward-baseline.json --fail-on medium
      apiward audit rules                (or --list-rules: id, severity, OWASP, CWE, title)

    Exit codes: 0 passed, 1 findings over the bar (--fail-on, --min-score),
    2 usage, config or input error, 3 internal error (a rule crashed).
    """
    section = load_config(config_path or find_config(), known={"audit rule": RULES.names()}).audit
    if specs == ("rules",) and not os.path.exists("rules"):
        show_rules = True  # `apiward audit rules`, unless a spec file is really called so
    ids = split_ids(only)
    AuditConfig.from_section(section, only=ids).selected_rules()  # unknown ids fail before loading
    if show_rules:
        emit(list_rules(section, fmt), output)
        return
    if not specs:
        raise UsageError("no spec given (apiward audit SPEC..., or --list-rules)")

    level = fail_on or section.fail_on
    gate = Gate(
        None if level == "none" else Severity(level),
        min_score if min_score is not None else section.min_score,
    )
    known = load_baseline(baseline or section.baseline, write_baseline)
    run = AuditRun([], gate, findings_gate=write_baseline is None)
    audited = []
    for spec in specs:
        try:
            result = _audit_one(spec, section, ids, known, Limits(max_bytes=max_bytes))
        except InputError as exc:
            run.failures.append(SpecFailure(spec, str(exc)))
            click.echo(f"error: {exc}", err=True)
            continue
        run.results.append(result)
        audited.append((spec, result.current()))

    if write_baseline is not None:
        count = save_baseline(write_baseline, audited)
        if not quiet:
            click.echo(f"wrote {count} findings to the baseline {write_baseline}", err=True)
    _report(run, fmt, output, limit, verbose, quiet)
    sys.exit(run.exit_code())


def _audit_one(
    spec: str,
    section: AuditSection,
    ids: list[str],
    known: Baseline | None,
    limits: Limits | None = None,
) -> AuditResult:
    """Load and audit one spec; the document is freed when this returns."""
    doc = load(spec, limits=limits)
    fingerprints = known.fingerprints(spec) if known is not None else None
    return audit(doc, AuditConfig.from_section(section, only=ids, baseline=fingerprints))


def _report(
    run: AuditRun, fmt: str, output: str | None, limit: int, verbose: bool, quiet: bool
) -> None:
    to_terminal = output is None and not quiet
    options = report_options(fmt, output, quiet, limit, verbose)
    if output is not None:
        emit(render(fmt, run, options), output)
    elif not quiet:
        emit(render(fmt, run, options), None)
    if not (to_terminal and fmt == "text"):
        # the text report shows these itself; with any other output they go to stderr
        for result in run.results:
            for err in result.rule_errors:
                click.echo(f"error: rule {err.rule_id} failed: {err.message}", err=True)
            if not quiet:
                for warning in result.warnings:
                    click.echo(f"warning: {warning}", err=True)
    if output is not None and not quiet:
        for result in run.results:
            click.echo(_one_line(result, run, options))
        click.echo(f"report written to {output}", err=True)


def _one_line(result: AuditResult, run: AuditRun, options: ReportOptions) -> str:
    counts = ", ".join(f"{n} {s.value}" for s, n in result.counts.items() if n) or "no findings"
    reasons = run.reasons(result)
    verdict = "FAIL: " + "; ".join(reasons) if reasons else "PASS"
    name = display_path(result.spec, options.cwd)
    return f"{name}: score {result.score.total}/100, {counts} - {verdict}"
