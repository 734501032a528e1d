from __future__ import annotations

import xml.etree.ElementTree as ET

from apiward.core import Severity
from apiward.report import ReportOptions
from apiward.report.scan import render_scan
from apiward.scan.result import ScanResult


def parse(result: ScanResult, options: ReportOptions, fail_on: Severity | None) -> ET.Element:
    return ET.fromstring(render_scan("junit", result, options, fail_on=fail_on))


def cases(root: ET.Element) -> dict[str, ET.Element]:
    return {c.get("name", ""): c for c in root.iter("testcase")}


def test_one_case_per_check_with_totals(result: ScanResult, options: ReportOptions) -> None:
    root = parse(result, options, Severity.HIGH)
    assert root.tag == "testsuites"
    [suite] = root.findall("testsuite")
    assert suite.get("name") == "openapi.yaml @ http://127.0.0.1:8000"
    assert list(cases(root)) == [
        "bola-read", "bola-write", "mass-assignment", "security-headers", "verbose-errors",
        "rate-limit", "account-delete",
    ]  # fmt: skip
    for element in (root, suite):
        assert element.get("tests") == "7"
        assert element.get("failures") == "2"  # bola-read, bola-write
        assert element.get("errors") == "1"
        assert element.get("skipped") == "1"
    props = {p.get("name"): p.get("value") for p in suite.iter("property")}
    assert props["fail_on"] == "high" and props["baselined"] == "1"


def test_findings_over_the_bar_are_failures_with_the_curl(
    result: ScanResult, options: ReportOptions
) -> None:
    read = cases(parse(result, options, Severity.HIGH))["bola-read"]
    failures = read.findall("failure")
    assert len(failures) == 2
    assert failures[0].get("type") == "high"
    assert (failures[0].get("message") or "").startswith("bob read alice's account 1001")
    body = failures[0].text or ""
    assert "operation: GET /accounts/{id}" in body
    assert "sent as: bob" in body
    assert "reproduce: curl -i -X GET 'http://127.0.0.1:8000/bola-read'" in body
    assert "at openapi.yaml:20:5" in body
    assert "\x1b" not in body and "\\u001b" in body
    assert read.get("classname") == "apiward.scan.API1"


def test_findings_below_the_bar_go_to_system_out(
    result: ScanResult, options: ReportOptions
) -> None:
    by_name = cases(parse(result, options, Severity.HIGH))
    headers = by_name["security-headers"]
    assert headers.find("failure") is None
    out = headers.findtext("system-out") or ""
    assert "LOW security-headers" in out and "operation: (whole API)" in out
    assert by_name["verbose-errors"].find("system-out") is not None
    nothing = cases(parse(result, options, None))
    assert not any(c.find("failure") is not None for c in nothing.values())


def test_crashed_and_skipped_checks(result: ScanResult, options: ReportOptions) -> None:
    by_name = cases(parse(result, options, Severity.HIGH))
    error = by_name["rate-limit"].find("error")
    assert error is not None
    assert error.get("type") == "CheckError"
    assert error.get("message") == "RuntimeError: boom \\u001b[2J"
    assert error.text == "Traceback ...\nboom"
    skipped = by_name["account-delete"].find("skipped")
    assert skipped is not None and skipped.get("message") == "--safe skips destructive checks"
