"""Scan reporters: a scan result in, text out (terminal, JSON, SARIF, JUnit XML, HTML, Markdown).

A scan reporter is a function ``(result, options, fail_on) -> str`` registered
under its format name with :func:`scan_reporter`; one module per format, like
the audit reporters. ``fail_on`` is the CI gate: findings at or above it fail
the run, and every format shows which ones do. Reporters read only the result
(check metadata included), so each is a pure function that is easy to test::

    from apiward.report import ReportOptions
    from apiward.report.scan import render_scan

    html = render_scan("html", result, ReportOptions(), fail_on=Severity.HIGH)
"""

from __future__ import annotations

import importlib
from collections.abc import Callable

from apiward.core import Registry, Severity
from apiward.report.common import ReportOptions
from apiward.scan.result import ScanResult

__all__ = [
    "SCAN_FORMATS",
    "SCAN_REPORTERS",
    "ScanReporter",
    "render_scan",
    "scan_reporter",
]

ScanReporter = Callable[[ScanResult, ReportOptions, Severity | None], str]

SCAN_REPORTERS: Registry[ScanReporter] = Registry("scan report format")

# the built-in formats, in the order `--help` lists them
SCAN_FORMATS = ("text", "json", "sarif", "junit", "html", "markdown")


def scan_reporter(name: str) -> Callable[[ScanReporter], ScanReporter]:
    """Register the decorated function as the scan reporter for format ``name``."""

    def decorate(func: ScanReporter) -> ScanReporter:
        return SCAN_REPORTERS.register(name, func)

    return decorate


def render_scan(
    fmt: str,
    result: ScanResult,
    options: ReportOptions | None = None,
    *,
    fail_on: Severity | None,
) -> str:
    """The report of ``result`` in format ``fmt`` (an unknown format is a UsageError)."""
    return SCAN_REPORTERS.get(fmt)(result, options or ReportOptions(), fail_on)


for _module in ("text", "json_report", "sarif", "junit", "html", "markdown"):
    importlib.import_module(f"apiward.report.scan.{_module}")
