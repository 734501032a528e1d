from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from apiward.core import Severity
from apiward.report import ReportOptions
from apiward.report.scan import render_scan
from apiward.report.scan.sarif import level
from apiward.scan.result import ScanResult

SCHEMA = json.loads((Path(__file__).parent.parent / "data" / "sarif-schema-2.1.0.json").read_text())


def sarif(
    result: ScanResult, options: ReportOptions, fail_on: Severity | None = Severity.HIGH
) -> dict[str, Any]:
    log: dict[str, Any] = json.loads(render_scan("sarif", result, options, fail_on=fail_on))
    return log


def validate(log: dict[str, Any]) -> None:
    validator = jsonschema.Draft7Validator(
        SCHEMA, format_checker=jsonschema.Draft7Validator.FORMAT_CHECKER
    )
    errors = sorted(validator.iter_errors(log), key=lambda e: list(e.path))
    assert not errors, "\n".join(f"{list(e.path)}: {e.message}" for e in errors[:5])


@pytest.mark.parametrize("fail_on", [Severity.HIGH, Severity.INFO, None])
def test_output_validates_against_the_sarif_2_1_0_schema(
    result: ScanResult, options: ReportOptions, fail_on: Severity | None
) -> None:
    validate(sarif(result, options, fail_on))


def test_rules_are_the_checks_that_ran(result: ScanResult, options: ReportOptions) -> None:
    [run] = sarif(result, options)["runs"]
    rules = run["tool"]["driver"]["rules"]
    assert [r["id"] for r in rules] == [
        "bola-read", "bola-write", "mass-assignment", "security-headers", "verbose-errors",
        "rate-limit",
    ]  # fmt: skip
    bola = rules[0]
    assert bola["name"] == "BolaRead"
    assert bola["shortDescription"]["text"] == "Title of bola-read"
    assert bola["fullDescription"]["text"] == (
        "What bola-read proves. It is wrapped like a docstring.\n\nSecond paragraph."
    )
    assert "Remediation: Fix bola-read like this." in bola["help"]["text"]
    assert "**Remediation:**" in bola["help"]["markdown"]
    tags = bola["properties"]["tags"]
    assert {"API1:2023", "CWE-639", "security", "external/cwe/cwe-639"} <= set(tags)
    assert bola["properties"]["security-severity"] == "8.0"
    assert rules[1]["properties"]["security-severity"] == "9.5"
    assert "security-severity" not in rules[4]["properties"]  # info
    assert run["automationDetails"]["id"] == "apiward-scan/"


def test_results_meet_github_code_scanning_requirements(
    result: ScanResult, options: ReportOptions, scan_dir: Path
) -> None:
    [run] = sarif(result, options)["runs"]
    results = run["results"]
    assert len(results) == 6  # the baselined one is left out
    ids = [r["id"] for r in run["tool"]["driver"]["rules"]]
    for r in results:
        loc = r["locations"][0]["physicalLocation"]
        assert loc["artifactLocation"] == {"uri": "openapi.yaml", "uriBaseId": "%SRCROOT%"}
        assert loc["region"]["startLine"] >= 1
        assert len(r["partialFingerprints"]["apiwardFingerprint/v1"]) == 16
        assert r["ruleIndex"] == ids.index(r["ruleId"])
    assert run["originalUriBaseIds"]["%SRCROOT%"]["uri"] == scan_dir.as_uri() + "/"


def test_a_result_points_at_its_operation_and_tells_how_to_reproduce(
    result: ScanResult, options: ReportOptions
) -> None:
    results = sarif(result, options)["runs"][0]["results"]
    read = results[1]
    assert read["ruleId"] == "bola-read"
    region = read["locations"][0]["physicalLocation"]["region"]
    assert region == {"startLine": 20, "startColumn": 5}
    logical = read["locations"][0]["logicalLocations"][0]
    assert logical["fullyQualifiedName"] == "GET /accounts/{id}"
    text = read["message"]["text"]
    assert "bob read alice's account 1001" in text
    assert "Sent as: bob" in text
    assert "Reproduce: curl -i -X GET" in text
    assert "\x1b" not in text
    assert read["partialFingerprints"]["apiwardFingerprint/v1"] == result.findings[1].fingerprint


def test_api_wide_findings_point_at_line_1_of_the_spec(
    result: ScanResult, options: ReportOptions
) -> None:
    wide = sarif(result, options)["runs"][0]["results"][4]
    assert wide["ruleId"] == "security-headers"
    physical = wide["locations"][0]["physicalLocation"]
    assert physical["region"] == {"startLine": 1}
    assert physical["artifactLocation"]["uri"] == "openapi.yaml"


def test_levels_follow_the_gate(result: ScanResult, options: ReportOptions) -> None:
    levels = [r["level"] for r in sarif(result, options)["runs"][0]["results"]]
    # critical, high, high, medium, low, info
    assert levels == ["error", "error", "error", "warning", "note", "note"]
    levels = [r["level"] for r in sarif(result, options, Severity.LOW)["runs"][0]["results"]]
    assert levels == ["error"] * 5 + ["note"]
    assert level(Severity.HIGH, Severity.CRITICAL) == "warning"
    assert level(Severity.HIGH, None) == "error" and level(Severity.MEDIUM, None) == "warning"


def test_crashed_checks_and_warnings_are_notifications(
    result: ScanResult, options: ReportOptions
) -> None:
    result.budget_exhausted = True
    [inv] = sarif(result, options)["runs"][0]["invocations"]
    assert inv["executionSuccessful"] is False
    notes = inv["toolExecutionNotifications"]
    assert notes[0]["descriptor"] == {"id": "rate-limit"}
    assert "\x1b" not in notes[0]["message"]["text"]
    texts = [n["message"]["text"] for n in notes]
    assert any("budget ran out" in t for t in texts)
    assert any("partner" in t for t in texts)


def test_a_spec_outside_the_working_directory_gets_a_file_uri(
    result: ScanResult, scan_dir: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    elsewhere = tmp_path_factory.mktemp("elsewhere")
    log = sarif(result, ReportOptions(cwd=str(elsewhere)))
    validate(log)
    artifact = log["runs"][0]["results"][4]["locations"][0]["physicalLocation"]["artifactLocation"]
    assert artifact == {"uri": (scan_dir / "openapi.yaml").as_uri()}
