from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from apiward import __version__
from apiward.audit.gate import AuditRun
from apiward.report import ReportOptions, render


def report(run: AuditRun, cwd: Path) -> dict[str, Any]:
    doc: dict[str, Any] = json.loads(render("json", run, ReportOptions(cwd=str(cwd))))
    return doc


def test_top_level_shape(run: AuditRun, spec_path: Path) -> None:
    doc = report(run, spec_path.parent)
    assert list(doc) == [
        "version",
        "tool",
        "passed",
        "exit_code",
        "gate",
        "specs",
        "errors",
        "rules",
    ]
    assert doc["version"] == 1
    assert doc["tool"] == {"name": "apiward", "version": __version__}
    assert doc["passed"] is False and doc["exit_code"] == 3  # a rule crashed
    assert doc["gate"] == {"fail_on": "high", "min_score": None}
    assert doc["errors"] == [
        {"spec": "missing.yaml", "message": "missing.yaml: cannot read: No such file"}
    ]
    assert [r["id"] for r in doc["rules"]] == ["operation-without-security", "t-nasty", "t-boom"]
    assert set(doc["rules"][0]) == {
        "id", "title", "severity", "category", "owasp", "cwe", "group", "description",
        "remediation",
    }  # fmt: skip


def test_spec_entry(run: AuditRun, spec_path: Path) -> None:
    [spec] = report(run, spec_path.parent)["specs"]
    assert spec["file"] == "api.json" and spec["title"] == "Demo <API>"
    assert spec["openapi"] == "3.1.0" and spec["operations"] == 45
    assert spec["score"]["total"] == spec["score"]["security"] + spec["score"]["data"]
    assert spec["score"]["categories"]["API1"] == {"score": None, "findings": 0, "penalty": 0.0}
    assert spec["counts"] == {"critical": 0, "high": 14, "medium": 1, "low": 0, "info": 0}
    assert spec["suppressed"] == {"ignore": 1, "baseline": 0}
    assert spec["passed"] is False and spec["reasons"] == ["14 findings at or above high"]
    assert spec["rule_errors"][0]["rule"] == "t-boom" and spec["rule_errors"][0]["internal"]


def test_findings_carry_everything(run: AuditRun, spec_path: Path) -> None:
    [spec] = report(run, spec_path.parent)["specs"]
    assert len(spec["findings"]) == 15
    first = spec["findings"][0]
    assert set(first) == {
        "rule", "title", "severity", "category", "owasp", "cwe", "message", "location",
        "operations", "fingerprint",
    }  # fmt: skip
    assert first["severity"] == "high" and first["category"] == "API2"
    assert first["location"]["file"] == "api.json" and first["location"]["line"] is not None
    [shared] = [f for f in spec["findings"] if f["rule"] == "t-nasty"]
    assert len(shared["operations"]) == 15  # all of them: JSON is not capped
    assert shared["location"]["line"] is None
    assert "\x1b" in shared["message"]  # data is data: JSON escapes it, it is not cleaned
