from __future__ import annotations

import pytest

from apiward.core import Severity
from apiward.errors import UsageError
from apiward.report import ReportOptions
from apiward.report.scan import SCAN_FORMATS, SCAN_REPORTERS, render_scan
from apiward.report.scan.common import verdict
from apiward.scan.result import ScanResult


def test_every_format_is_registered_in_order() -> None:
    assert SCAN_REPORTERS.names() == list(SCAN_FORMATS)


def test_an_unknown_format_is_a_usage_error(result: ScanResult) -> None:
    with pytest.raises(UsageError, match="did you mean html"):
        render_scan("htm", result, ReportOptions(), fail_on=None)


@pytest.mark.parametrize("fmt", [f for f in SCAN_FORMATS if f != "html"])
def test_output_is_deterministic(result: ScanResult, options: ReportOptions, fmt: str) -> None:
    once = render_scan(fmt, result, options, fail_on=Severity.HIGH)
    assert once == render_scan(fmt, result, options, fail_on=Severity.HIGH)
    assert "\x1b" not in once


@pytest.mark.parametrize("fmt", SCAN_FORMATS)
def test_an_empty_scan_renders(result: ScanResult, options: ReportOptions, fmt: str) -> None:
    empty = ScanResult(result.spec, "", result.target, [], [], [])
    assert render_scan(fmt, empty, options, fail_on=Severity.HIGH)


def test_the_verdict_follows_the_gate(result: ScanResult) -> None:
    high = verdict(result, Severity.HIGH)
    assert high.status == "FAIL"
    assert high.reasons == ["3 findings at or above high", "1 check crashed (rate-limit)"]
    result.errors.clear()
    assert verdict(result, Severity.CRITICAL).reasons == ["1 finding at or above critical"]
    assert verdict(result, None).line() == "PASS (no severity gate)"
    result.budget_exhausted = True
    result.findings.clear()
    line = verdict(result, Severity.LOW).line()
    assert line == "PASS (incomplete: the request budget ran out after 412 requests)"


def test_a_crashed_check_without_findings_over_the_bar_is_incomplete(result: ScanResult) -> None:
    assert verdict(result, Severity.CRITICAL).status == "FAIL"
    result.findings = [f for f in result.findings if f.severity < Severity.CRITICAL]
    assert verdict(result, Severity.CRITICAL).status == "INCOMPLETE"
