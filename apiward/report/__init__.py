"""Reporters: an audit run in, text out (terminal, JSON, SARIF, JUnit XML, Markdown).

A reporter is a function ``(run: AuditRun, options: ReportOptions) -> str``
registered under its format name with :func:`reporter`; one module per format.
Reporters read only the results (rule metadata included), never the document
or a rule's code, so each is a pure function that is easy to test.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable

from apiward.audit.gate import AuditRun
from apiward.core import Registry
from apiward.report.common import ReportOptions

__all__ = ["FORMATS", "REPORTERS", "ReportOptions", "Reporter", "render", "reporter"]

Reporter = Callable[[AuditRun, ReportOptions], str]

REPORTERS: Registry[Reporter] = Registry("report format")

# the built-in formats, in the order `--help` lists them
FORMATS = ("text", "json", "sarif", "junit", "markdown")


def reporter(name: str) -> Callable[[Reporter], Reporter]:
    """Register the decorated function as the reporter for format ``name``."""

    def decorate(func: Reporter) -> Reporter:
        return REPORTERS.register(name, func)

    return decorate


def render(fmt: str, run: AuditRun, options: ReportOptions | None = None) -> str:
    """The report of ``run`` in format ``fmt`` (an unknown format is a UsageError)."""
    return REPORTERS.get(fmt)(run, options or ReportOptions())


for _module in ("console", "json_report", "sarif", "junit", "markdown"):
    importlib.import_module(f"apiward.report.{_module}")
