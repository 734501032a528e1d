from __future__ import annotations

import dataclasses
import xml.etree.ElementTree as ET
from pathlib import Path

from apiward.audit.gate import AuditRun, Gate
from apiward.core import Severity
from apiward.report import ReportOptions, render


def junit(run: AuditRun, cwd: Path) -> ET.Element:
    text = render("junit", run, ReportOptions(cwd=str(cwd)))
    assert text.startswith("<?xml")
    return ET.fromstring(text.encode())


def test_one_suite_per_spec_one_case_per_rule(run: AuditRun, spec_path: Path) -> None:
    root = junit(run, spec_path.parent)
    assert root.tag == "testsuites"
    suites = root.findall("testsuite")
    assert [s.get("name") for s in suites] == ["api.json", "missing.yaml"]
    cases = suites[0].findall("testcase")
    assert [c.get("name") for c in cases] == ["operation-without-security", "t-nasty", "t-boom"]
    assert suites[0].get("tests") == "3"
    assert suites[0].find("properties/property[@name='score']") is not None


def test_findings_over_the_bar_fail_and_the_rest_are_output(run: AuditRun, spec_path: Path) -> None:
    cases = {c.get("name"): c for c in junit(run, spec_path.parent).iter("testcase")}
    failures = cases["operation-without-security"].findall("failure")
    assert len(failures) == 14
    assert failures[0].get("type") == "high"
    assert "declares no security requirement" in (failures[0].get("message") or "")
    assert "api.json:" in (failures[0].text or "")
    nasty = cases["t-nasty"]
    assert nasty.find("failure") is None  # medium is below --fail-on high
    out = nasty.findtext("system-out") or ""
    assert "affects 15 operation(s)" in out and "\x1b" not in out
    assert cases["t-boom"].find("error") is not None


def test_totals_add_up(run: AuditRun, spec_path: Path) -> None:
    root = junit(run, spec_path.parent)
    assert root.get("tests") == "4"  # 3 rules + the unreadable spec
    assert root.get("failures") == "1"
    assert root.get("errors") == "2"


def test_failures_follow_the_gate(run: AuditRun, spec_path: Path) -> None:
    strict = dataclasses.replace(run, gate=Gate(Severity.LOW, None))
    cases = {c.get("name"): c for c in junit(strict, spec_path.parent).iter("testcase")}
    assert len(cases["t-nasty"].findall("failure")) == 1
    never = dataclasses.replace(run, gate=Gate(None, None))
    assert not list(junit(never, spec_path.parent).iter("failure"))
