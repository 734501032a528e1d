from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from apiward.audit.engine import LOCATED_USAGES
from apiward.audit.gate import AuditRun
from apiward.report import ReportOptions, render

SCHEMA = json.loads((Path(__file__).parent / "data" / "sarif-schema-2.1.0.json").read_text())


def sarif(run: AuditRun, cwd: Path) -> dict[str, Any]:
    log: dict[str, Any] = json.loads(render("sarif", run, ReportOptions(cwd=str(cwd))))
    return log


def validate(log: dict[str, Any]) -> None:
    validator = jsonschema.Draft7Validator(
        SCHEMA, format_checker=jsonschema.Draft7Validator.FORMAT_CHECKER
    )
    errors = sorted(validator.iter_errors(log), key=lambda e: list(e.path))
    assert not errors, "\n".join(f"{list(e.path)}: {e.message}" for e in errors[:5])


def test_the_official_schema_is_the_2_1_0_one() -> None:
    assert SCHEMA["properties"]["version"]["enum"] == ["2.1.0"]
    assert "reportingDescriptor" in SCHEMA["definitions"]


def test_output_validates_against_the_sarif_2_1_0_schema(run: AuditRun, spec_path: Path) -> None:
    validate(sarif(run, spec_path.parent))


def test_one_run_with_one_rule_per_rule_id(run: AuditRun, spec_path: Path) -> None:
    log = sarif(run, spec_path.parent)
    [the_run] = log["runs"]
    rules = the_run["tool"]["driver"]["rules"]
    assert [r["id"] for r in rules] == ["operation-without-security", "t-nasty", "t-boom"]
    ows = rules[0]
    assert ows["name"] == "OperationWithoutSecurity"
    assert ows["shortDescription"]["text"] == "Operation has no security requirement at all"
    assert "\n" not in ows["fullDescription"]["text"]  # docstring wrapping is undone
    assert "Remediation:" in ows["help"]["text"] and ows["help"]["markdown"]
    assert ows["defaultConfiguration"]["level"] == "error"
    props = ows["properties"]
    assert "external/cwe/cwe-306" in props["tags"] and "OWASP-API2:2023" in props["tags"]
    assert props["security-severity"] == "8.0"
    assert rules[1]["properties"]["security-severity"] == "5.5"
    assert rules[1]["defaultConfiguration"]["level"] == "warning"


def test_results_meet_github_code_scanning_requirements(run: AuditRun, spec_path: Path) -> None:
    the_run = sarif(run, spec_path.parent)["runs"][0]
    results = the_run["results"]
    assert len(results) == 15
    for r in results:
        loc = r["locations"][0]["physicalLocation"]
        assert loc["region"]["startLine"] >= 1
        assert loc["artifactLocation"] == {"uri": "api.json", "uriBaseId": "%SRCROOT%"}
        assert len(r["partialFingerprints"]["apiwardFingerprint/v1"]) == 16
        assert r["ruleIndex"] == [x["id"] for x in the_run["tool"]["driver"]["rules"]].index(
            r["ruleId"]
        )
    base = the_run["originalUriBaseIds"]["%SRCROOT%"]["uri"]
    assert base == spec_path.parent.as_uri() + "/"


def test_known_positions_are_used_and_unknown_ones_default_to_line_1(
    run: AuditRun, spec_path: Path
) -> None:
    results = sarif(run, spec_path.parent)["runs"][0]["results"]
    by_rule = {r["ruleId"]: r for r in results}
    op = by_rule["operation-without-security"]["locations"][0]
    assert op["physicalLocation"]["region"]["startColumn"] == 5
    assert op["logicalLocations"][0]["fullyQualifiedName"].startswith("/paths/")
    schema = by_rule["t-nasty"]["locations"][0]["physicalLocation"]["region"]
    assert schema == {"startLine": 1}


def test_usages_become_capped_related_locations(run: AuditRun, spec_path: Path) -> None:
    results = sarif(run, spec_path.parent)["runs"][0]["results"]
    [shared] = [r for r in results if r["ruleId"] == "t-nasty"]
    related = shared["relatedLocations"]
    assert len(related) == LOCATED_USAGES
    assert [x["id"] for x in related] == list(range(LOCATED_USAGES))
    assert related[0]["message"]["text"] == "POST /p0"
    assert related[0]["physicalLocation"]["region"]["startLine"] == 10
    assert shared["properties"]["operations"] == 15
    assert "(affects 15 operations)" in shared["message"]["text"]
    assert "\x1b" not in shared["message"]["text"]


def test_rule_errors_and_unreadable_specs_are_notifications(run: AuditRun, spec_path: Path) -> None:
    [inv] = sarif(run, spec_path.parent)["runs"][0]["invocations"]
    assert inv["executionSuccessful"] is False
    texts = [n["message"]["text"] for n in inv["toolExecutionNotifications"]]
    assert any("rule t-boom failed" in t for t in texts)
    assert any("missing.yaml" in t for t in texts)


def test_files_outside_the_working_directory_get_file_uris(
    run: AuditRun, spec_path: Path, tmp_path: Path
) -> None:
    elsewhere = tmp_path / "other"
    elsewhere.mkdir()
    log = sarif(run, elsewhere)
    validate(log)
    uri = log["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["artifactLocation"]
    assert uri == {"uri": spec_path.as_uri()}


def test_an_empty_run_is_valid(tmp_path: Path) -> None:
    log = sarif(AuditRun([]), tmp_path)
    validate(log)
    assert log["runs"][0]["results"] == []


@pytest.mark.parametrize("fmt", ["sarif", "json"])
def test_output_is_deterministic(run: AuditRun, spec_path: Path, fmt: str) -> None:
    opts = ReportOptions(cwd=str(spec_path.parent))
    assert render(fmt, run, opts) == render(fmt, run, opts)
