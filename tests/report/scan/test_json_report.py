from __future__ import annotations

import json
from typing import Any

from apiward import __version__
from apiward.core import Severity
from apiward.report import ReportOptions
from apiward.report.scan import render_scan
from apiward.scan.result import ScanResult
from apiward.scan.store import finding_from_dict


def report(result: ScanResult, options: ReportOptions) -> dict[str, Any]:
    doc: dict[str, Any] = json.loads(render_scan("json", result, options, fail_on=Severity.HIGH))
    return doc


def test_top_level_shape(result: ScanResult, options: ReportOptions) -> None:
    doc = report(result, options)
    assert list(doc)[:17] == [
        "tool", "version", "kind", "format", "spec", "title", "target", "identities",
        "requests", "duration_s", "complete", "budget_exhausted", "fail_on", "verdict",
        "reasons", "summary", "findings",
    ]  # fmt: skip
    assert doc["tool"] == "apiward" and doc["version"] == __version__ and doc["kind"] == "scan"
    assert doc["spec"] == "openapi.yaml"  # relative to the working directory
    assert doc["title"] == "Demo <Bank>"
    assert doc["identities"] == ["alice", "bob", "admin"]
    assert (doc["requests"], doc["duration_s"]) == (412, 12.34)
    assert doc["complete"] is False  # a check crashed
    assert doc["fail_on"] == "high" and doc["verdict"] == "FAIL"
    assert doc["baselined"] == 1
    assert doc["errors"] == [
        {
            "check": "rate-limit",
            "message": "RuntimeError: boom \x1b[2J",
            "traceback": "Traceback ...\nboom",
        }
    ]
    assert doc["skipped"] == {"account-delete": "--safe skips destructive checks"}
    assert doc["warnings"] == ["identity partner: the login answered 401"]


def test_summary_counts_by_severity_and_category(
    result: ScanResult, options: ReportOptions
) -> None:
    summary = report(result, options)["summary"]
    assert summary["total"] == 6 and summary["failing"] == 3
    assert summary["by_severity"] == {"critical": 1, "high": 2, "medium": 1, "low": 1, "info": 1}
    api1 = summary["by_category"]["API1:2023"]
    assert api1["title"] == "Broken Object Level Authorization"
    assert api1["total"] == 3 and api1["by_severity"]["critical"] == 1
    assert len(summary["by_category"]) == 10
    assert summary["by_category"]["API2:2023"]["total"] == 0


def test_findings_read_back_as_the_same_findings(
    result: ScanResult, options: ReportOptions
) -> None:
    doc = report(result, options)
    back = [finding_from_dict(d) for d in doc["findings"]]
    assert back == result.findings
    assert [f.fingerprint for f in back] == [d["fingerprint"] for d in doc["findings"]]
    wide = doc["findings"][4]
    assert wide["location"] is None and wide["operations"] == []


def test_checks_that_ran_are_listed_with_their_finding_counts(
    result: ScanResult, options: ReportOptions
) -> None:
    checks = {c["id"]: c for c in report(result, options)["checks"]}
    assert "account-delete" not in checks  # skipped
    assert checks["bola-read"]["findings"] == 2
    assert checks["rate-limit"]["findings"] == 0
    assert checks["mass-assignment"]["cwe"] == 915


def test_no_gate(result: ScanResult, options: ReportOptions) -> None:
    doc = json.loads(render_scan("json", result, options, fail_on=None))
    assert doc["fail_on"] is None and doc["summary"]["failing"] == 0
