"""``apiward scan``: test a running API as several users; report, and gate CI on the result."""

from __future__ import annotations

import os
import sys
import time

import click

from apiward.cli import cli
from apiward.cli.common import emit, load_baseline, report_options, split_ids
from apiward.cli.options import baseline_options, config_option, output_options, terminal_options
from apiward.config import ScanSection, find_config, load_config
from apiward.config.scan import operation_key
from apiward.core import Document, Severity, load
from apiward.core.baseline import write_baseline as save_baseline
from apiward.errors import UsageError
from apiward.report.scan import SCAN_FORMATS, render_scan
from apiward.scan import CHECKS, Progress, ScanOptions, ScanResult, result_from_state, scan

SEVERITIES = [s.value for s in Severity]
DEFAULT_STATE = os.path.join(".apiward", "scan-state.ndjson")


@cli.command("scan")
@click.argument("spec", required=False)
@click.option(
    "-t", "--target", metavar="URL", help="Base URL of the API [default: the spec's server]."
)
@config_option(" with identities")
@output_options(SCAN_FORMATS, "Write the report to FILE (the terminal then gets a summary).")
@click.option(
    "-k",
    "--check",
    "only",
    multiple=True,
    metavar="ID",
    help="Run only this check (repeat, or separate ids with commas).",
)
@click.option("--skip", multiple=True, metavar="ID", help="Do not run this check (repeatable).")
@click.option(
    "--exclude",
    multiple=True,
    metavar="'METHOD /path'",
    help="Never call this operation (repeatable; `*` and globs allowed).",
)
@click.option(
    "--safe",
    is_flag=True,
    default=None,
    help="No destructive calls: no DELETE (no delete checks), no state resets.",
)
@baseline_options("high", "Write this run's findings to FILE as the accepted baseline.")
@click.option("--budget", type=click.IntRange(min=1), help="Most requests to send [default: 5000].")
@click.option("--concurrency", type=click.IntRange(1, 256), help="Requests in flight [default: 8].")
@click.option(
    "--timeout", type=click.FloatRange(min=0.1), help="Seconds per request [default: 10]."
)
@click.option("--rate", type=click.FloatRange(min=0.1), help="Most requests per second.")
@click.option(
    "--request-log",
    type=click.Path(dir_okay=False),
    metavar="FILE",
    help="Write every request and answer to FILE (NDJSON, secrets masked).",
)
@click.option(
    "--state",
    "state_file",
    type=click.Path(dir_okay=False),
    default=DEFAULT_STATE,
    show_default=True,
    help="Where findings are saved as they are found.",
)
@click.option(
    "--from-state",
    "from_state",
    is_flag=True,
    help="Send nothing: report the findings the state file holds (a second format).",
)
@click.option(
    "--resume",
    is_flag=True,
    help="Go on from an interrupted scan: keep its findings, skip its finished checks.",
)
@terminal_options("check", "Every finding with its evidence.")
@click.option("--list-checks", "show_checks", is_flag=True, help="List the checks and exit.")
def scan_command(
    spec: str | None,
    target: str | None,
    config_path: str | None,
    fmt: str,
    output: str | None,
    only: tuple[str, ...],
    skip: tuple[str, ...],
    exclude: tuple[str, ...],
    safe: bool | None,
    fail_on: str | None,
    baseline: str | None,
    write_baseline: str | None,
    budget: int | None,
    concurrency: int | None,
    timeout: float | None,
    rate: float | None,
    request_log: str | None,
    state_file: str,
    from_state: bool,
    resume: bool,
    limit: int,
    verbose: bool,
    quiet: bool,
    show_checks: bool,
) -> None:  # fmt: skip
    """Scan a running API for the OWASP API Security Top 10 (2023), as several users.

    Logs in as each identity of the config's `scan.identities`, learns which
    objects each one owns, then tries to reach them as the others, forges
    tokens, calls admin operations as users, and more. Every finding comes
    with evidence and a `curl` that reproduces it.

    \b
    Examples:
      apiward scan openapi.yaml --target http://127.0.0.1:8000
      apiward scan openapi.yaml -c apiward.yaml --format sarif -o scan.sarif
      apiward scan openapi.yaml --safe --exclude 'POST /admin/reset'
      apiward scan openapi.yaml --resume          (after an interrupted run)
      apiward scan openapi.yaml --from-state -f markdown -o summary.md   (no new requests)
      apiward scan --list-checks

    Exit codes: 0 passed, 1 findings at or above --fail-on, 2 usage, config,
    input or connection error, 3 internal error (a check crashed).
    """
    section = load_config(config_path or find_config(), known={"scan check": CHECKS.names()}).scan
    if show_checks:
        emit(_checks_table(), output)
        return
    if spec is None:
        raise UsageError("no spec given (apiward scan SPEC --target URL, or --list-checks)")
    doc = load(spec)
    url = target or section.target or _server_url(doc)
    level = fail_on or section.fail_on
    gate = None if level == "none" else Severity(level)
    options = ScanOptions.from_section(
        section,
        url,
        select=tuple(split_ids(only)),
        disabled=section.disabled | frozenset(split_ids(skip)),
        exclude=(*section.exclude, *_operations(exclude)),
        safe=safe,
        budget=budget,
        concurrency=concurrency,
        timeout=timeout,
        rate=rate,
        request_log=request_log,
        state_file=state_file,
        resume=resume,
    )
    options.selected_checks()  # unknown ids fail before anything is sent
    known = load_baseline(baseline or section.baseline, write_baseline)
    if from_state:
        result = result_from_state(doc, options, baseline=known)
    else:
        result = scan(doc, options, baseline=known, progress=_progress(quiet))
    if write_baseline is not None:
        count = save_baseline(write_baseline, [(spec, result.current())])
        if not quiet:
            click.echo(f"wrote {count} findings to the baseline {write_baseline}", err=True)
        gate = None
    _report(result, fmt, output, gate, limit, verbose, quiet)
    sys.exit(_exit_code(result, gate))


def _exit_code(result: ScanResult, gate: Severity | None) -> int:
    if result.errors:
        return 3
    if gate is not None and any(f.severity >= gate for f in result.findings):
        return 1
    return 0


def _report(
    result: ScanResult,
    fmt: str,
    output: str | None,
    gate: Severity | None,
    limit: int,
    verbose: bool,
    quiet: bool,
) -> None:
    options = report_options(fmt, output, quiet, limit, verbose)
    if output is not None or not quiet:
        emit(render_scan(fmt, result, options, fail_on=gate), output)
    for err in result.errors:
        click.echo(f"error: check {err.check_id} failed: {err.message}", err=True)
    if not quiet:
        for warning in result.warnings:
            click.echo(f"warning: {warning}", err=True)
    if result.budget_exhausted:  # even with -q: a CI log must show the scan was cut short
        click.echo(
            f"warning: the request budget ({result.requests}) ran out; raise --budget "
            "and --resume to finish",
            err=True,
        )
    if output is not None and not quiet:
        counts = ", ".join(f"{n} {s.value}" for s, n in result.counts.items() if n)
        click.echo(
            f"{result.target}: {counts or 'no findings'} in {result.requests} requests, "
            f"{result.duration:.1f}s; report written to {output}",
            err=True,
        )


def _progress(quiet: bool) -> Progress | None:
    if quiet or not sys.stderr.isatty():
        return None
    state = {"findings": 0, "last": 0.0}

    def show(event: str, detail: str) -> None:
        if event == "finding":
            state["findings"] += 1
        now = time.monotonic()
        if event in ("login", "crawl", "check", "done") or now - state["last"] > 0.5:
            state["last"] = now
            what = {"login": "logging in", "crawl": "crawling", "check": f"checking {detail}"}
            line = f"{what.get(event, 'scanning')} - {int(state['findings'])} findings"
            end = "\n" if event == "done" else ""
            click.echo(
                f"\r\x1b[2K{line}" if event != "done" else "\r\x1b[2K", nl=bool(end), err=True
            )

    return show


def _checks_table() -> str:
    rows = [f"{'id':28} {'severity':9} {'owasp':10} {'cwe':8} title"]
    for c in sorted(CHECKS, key=lambda c: (c.category.value, c.id)):
        rows.append(
            f"{c.id:28} {c.severity.value:9} {c.category.value:10} CWE-{c.cwe:<4} {c.title}"
        )
    return "\n".join(rows) + "\n"


def _server_url(doc: Document) -> str:
    for server in doc.servers:
        if server.url.startswith(("http://", "https://")):
            return server.url
    raise UsageError("no target: give --target URL (the spec names no absolute http(s) server)")


def _operations(values: tuple[str, ...]) -> list[str]:
    try:
        return [operation_key(v) for v in values]
    except ValueError as exc:
        raise UsageError(f"--exclude: {exc}") from None


__all__ = ["ScanSection", "scan_command"]
