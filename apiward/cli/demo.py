"""``apiward demo``: the first thing a newcomer runs.

Starts the deliberately vulnerable demo bank on 127.0.0.1, audits its OpenAPI
document (fetched from the running server, as a user would point apiward at a
live API), scans the running API as its users, and compares what each found
with the demo's ground truth.
"""

from __future__ import annotations

from dataclasses import dataclass

import click
from rich.console import Console
from rich.table import Table

from apiward.audit import AuditResult, audit
from apiward.audit.gate import AuditRun, Gate
from apiward.cli import cli
from apiward.cli.demo_gateway import scan_through_gateway
from apiward.config import load_config
from apiward.core import Finding, Severity, load
from apiward.demo import (
    Entry,
    Manifest,
    demo_file,
    load_manifest,
    match_runtime_entries,
    run,
    serve,
)
from apiward.report import ReportOptions, render
from apiward.report.scan import render_scan
from apiward.scan import ScanOptions, ScanResult, scan

__all__ = ["SpecMatch", "demo_command", "match_spec_entries"]


@dataclass(frozen=True, slots=True)
class SpecMatch:
    """A spec flaw of the ground truth and the audit finding that reports it (if any)."""

    entry: Entry
    finding: Finding | None


def match_spec_entries(entries: tuple[Entry, ...], result: AuditResult) -> list[SpecMatch]:
    """Pair every spec entry with a finding of its expected rule that covers its pointer.

    A finding covers an entry when one pointer contains the other: rules report at
    the root cause (a component schema, an operation), entries name the exact node.
    """
    out = []
    for entry in entries:
        found = next(
            (f for f in result.findings if _covers(f, entry) and f.rule_id in entry.rules),
            None,
        )
        out.append(SpecMatch(entry, found))
    return out


def _covers(finding: Finding, entry: Entry) -> bool:
    if finding.location is None or entry.proof.pointer is None:
        return False
    a, b = finding.location.pointer, entry.proof.pointer
    if a == b or b.startswith(a + "/") or a.startswith(b + "/"):
        return True
    # a problem shared by most operations is one finding at /paths, listing them
    return a == "/paths" and entry.operation in {u.key for u in finding.usages}


@cli.command("demo")
@click.option(
    "--serve",
    "serve_only",
    is_flag=True,
    help="Only run the demo API in the foreground (Ctrl-C to stop).",
)
@click.option("--secure", is_flag=True, help="Run the fixed twin: every planted flaw removed.")
@click.option(
    "--port",
    type=int,
    default=None,
    help="Port for --serve (default 8000); the walkthrough takes a free one.",
)
def demo_command(serve_only: bool, secure: bool, port: int | None) -> None:
    """Run the built-in vulnerable bank API: audit, scan, then scan it behind the gateway.

    \b
    Examples:
      apiward demo                  start the API, audit and scan it, compare with the ground truth
      apiward demo --serve          keep the vulnerable API running on http://127.0.0.1:8000
      apiward demo --serve --secure run the fixed twin instead
    """
    console = Console(highlight=False)
    manifest = load_manifest()
    if serve_only:
        rows = [(u.username, u.password, u.role) for u in manifest.users]
        _print_credentials(console, rows, port or 8000, secure)
        run(secure=secure, port=port or 8000)
        return

    mode = "secure" if secure else "vulnerable"
    with serve(secure=secure, port=port or 0) as url:
        console.print(f"[bold]apiward demo[/]: the demo bank is running at {url} ({mode} mode)")
        console.print(
            f"  planted: {len(manifest.runtime)} live vulnerabilities, "
            f"{len(manifest.spec)} flaws in its OpenAPI document\n"
        )
        spec_url = f"{url}/openapi.yaml"
        console.print(f"[bold]1. apiward audit {spec_url}[/]\n")
        doc = load(spec_url)
        result = audit(doc)
        _show_audit(console, manifest, result)
        config = demo_file("scan.yaml")
        console.print(f"\n[bold]3. apiward scan {spec_url} --target {url} --config {config}[/]\n")
        with console.status("scanning as alice, bob, admin, partner and anonymous ..."):
            options = ScanOptions.from_section(load_config(config).scan, url)
            scanned = scan(doc, options)
    _show_scan(console, manifest, scanned, secure)
    if not secure:
        console.print("\n[bold]5. apiward gateway in front of the same bank, scanned again[/]\n")
        scan_through_gateway(console, manifest, doc, scanned)
    console.print(
        "\n[bold]Next[/]\n"
        "  apiward audit SPEC                  audit your own API document\n"
        "  apiward scan SPEC -t URL -c FILE    scan your running API as its users (docs/scan.md)\n"
        "  apiward scan SPEC -t URL -f html -o report.html   a report to read and share\n"
        "  apiward audit SPEC -f sarif -o x    for GitHub code scanning (docs/ci.md)\n"
        "  apiward demo --serve                keep the vulnerable API running to explore it\n"
        "  apiward demo --secure               the fixed twin: the scan finds nothing\n"
        "  apiward gateway -c apiward.yaml     protect your API with its spec (docs/gateway.md)"
    )


def _show_audit(console: Console, manifest: Manifest, result: AuditResult) -> None:
    run_ = AuditRun([result], Gate())  # the default CI bar, to show what a pipeline would do
    options = ReportOptions(limit=1, color=console.is_terminal, width=console.width)
    console.out(render("text", run_, options), highlight=False)
    matches = match_spec_entries(manifest.spec, result)
    found = sum(m.finding is not None for m in matches)
    console.print(
        f"\n[bold]2. Against the ground truth[/] (apiward/demo/manifest.yaml): "
        f"the audit found [bold]{found} of {len(matches)}[/] planted spec flaws"
    )
    table = Table(show_header=True, header_style="bold", box=None, pad_edge=False)
    table.add_column("")
    table.add_column("planted flaw")
    table.add_column("reported by")
    for m in matches:
        mark = "[green]✓[/]" if m.finding else "[red]✗[/]"
        table.add_row(mark, m.entry.title, m.finding.rule_id if m.finding else "not found")
    console.print(table)


def _show_scan(console: Console, manifest: Manifest, result: ScanResult, secure: bool) -> None:
    options = ReportOptions(limit=1, color=console.is_terminal, width=console.width)
    console.out(render_scan("text", result, options, fail_on=Severity.HIGH), highlight=False)
    if secure:
        console.print(
            f"\n[bold]4. Against the ground truth[/]: the secure twin has none of the "
            f"{len(manifest.runtime)} planted live vulnerabilities, and the scan reported "
            f"[bold]{len(result.findings)}[/] findings ({result.requests} requests, "
            f"{result.duration:.1f}s)"
        )
        return
    matches = match_runtime_entries(manifest.runtime, result.findings)
    found = sum(m.finding is not None for m in matches)
    console.print(
        f"\n[bold]4. Against the ground truth[/]: the scan found [bold]{found} of "
        f"{len(matches)}[/] planted live vulnerabilities ({result.requests} requests, "
        f"{result.duration:.1f}s)"
    )
    table = Table(show_header=True, header_style="bold", box=None, pad_edge=False)
    table.add_column("")
    table.add_column("owasp")
    table.add_column("planted vulnerability")
    table.add_column("found by")
    for m in matches:
        mark = "[green]✓[/]" if m.finding else "[red]✗[/]"
        table.add_row(
            mark, m.entry.category, m.entry.title, m.finding.rule_id if m.finding else "not found"
        )
    console.print(table)


def _print_credentials(
    console: Console, rows: list[tuple[str, str, str]], port: int, secure: bool
) -> None:
    mode = "secure" if secure else "vulnerable"
    console.print(
        f"[bold]apiward demo[/] ({mode} mode) on http://127.0.0.1:{port}  "
        f"spec: http://127.0.0.1:{port}/openapi.yaml"
    )
    for user, password, role in rows:
        console.print(f"  {user:<8} {password:<18} {role}")
