"""``apiward scan --format sarif``: SARIF 2.1.0 for GitHub code scanning and other viewers.

Like the audit's SARIF: one run, one ``rule`` per check that ran with its OWASP
category, CWE and a numeric ``security-severity``, ``partialFingerprints`` from
:attr:`Finding.fingerprint`. A result points at the operation in the spec file
(an API-wide finding at its line 1, since GitHub requires a ``startLine``), and
its message says who sent the request and how to send it again. Findings at or
above ``--fail-on`` are ``error``; below it, ``warning`` (medium and up) or
``note``; without a gate the severity alone decides, as in the audit SARIF. The
run's ``automationDetails`` keep scan alerts apart from audit ones on GitHub.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from apiward import __version__
from apiward.core import Finding, Location, Severity
from apiward.report.common import ReportOptions, clean, reflow
from apiward.report.sarif import (
    FINGERPRINT_KEY,
    LEVEL,
    SARIF_SCHEMA,
    SECURITY_SEVERITY,
    SRCROOT,
    artifact,
)
from apiward.report.scan import scan_reporter
from apiward.report.scan.common import API_WIDE, check_index, checks_run, fails, operation
from apiward.scan.check import Check
from apiward.scan.result import ScanResult

AUTOMATION_ID = "apiward-scan/"


def level(severity: Severity, fail_on: Severity | None) -> str:
    """The SARIF level of a finding of ``severity`` under the gate ``fail_on``."""
    if fail_on is None:
        return LEVEL[severity]
    if fail_on <= severity:
        return "error"
    return "warning" if severity >= Severity.MEDIUM else "note"


@scan_reporter("sarif")
def sarif(result: ScanResult, options: ReportOptions, fail_on: Severity | None) -> str:
    """The scan as a SARIF 2.1.0 log."""
    found = {f.rule_id for f in result.findings}
    rules = [c for c in check_index(result).values() if c.id not in result.skipped or c.id in found]
    index = {c.id: i for i, c in enumerate(rules)}
    results = [_result(f, index, result, options, fail_on) for f in result.findings]
    notifications: list[dict[str, Any]] = [
        {
            "level": "error",
            "message": {"text": f"check {e.check_id} failed: {clean(e.message)}"},
            "descriptor": {"id": e.check_id},
        }
        for e in result.errors
    ]
    if result.budget_exhausted:
        text = f"the request budget ran out after {result.requests} requests; the scan is partial"
        notifications.append({"level": "warning", "message": {"text": text}})
    notifications += [{"level": "warning", "message": {"text": clean(w)}} for w in result.warnings]
    log = {
        "$schema": SARIF_SCHEMA,
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "apiward",
                        "version": __version__,
                        "semanticVersion": __version__,
                        "rules": [_rule(c, fail_on) for c in rules],
                    }
                },
                "automationDetails": {"id": AUTOMATION_ID},
                "originalUriBaseIds": {SRCROOT: {"uri": Path(options.cwd).as_uri() + "/"}},
                "invocations": [
                    {
                        "executionSuccessful": not result.errors,
                        "toolExecutionNotifications": notifications,
                        "properties": {
                            "target": clean(result.target),
                            "requests": result.requests,
                            "durationSeconds": round(result.duration, 3),
                            "skipped": {k: clean(v) for k, v in result.skipped.items()},
                        },
                    }
                ],
                "columnKind": "unicodeCodePoints",
                "results": results,
                "properties": {
                    "kind": "scan",
                    "baselined": len(result.baselined),
                    "failOn": fail_on.value if fail_on is not None else None,
                    "checksRun": len(checks_run(result)),
                },
            }
        ],
    }
    return json.dumps(log, indent=2, ensure_ascii=False) + "\n"


def _rule(c: Check, fail_on: Severity | None) -> dict[str, Any]:
    tags = ["security", c.category.value, f"OWASP-{c.category.value}", f"CWE-{c.cwe}"]
    tags.append(f"external/cwe/cwe-{c.cwe}")
    props: dict[str, Any] = {"tags": tags, "precision": "high", "kind": "scan"}
    if c.severity in SECURITY_SEVERITY:
        props["security-severity"] = SECURITY_SEVERITY[c.severity]
    title = clean(c.title)
    description = clean(reflow(c.description)) or title
    remediation = clean(c.remediation)
    return {
        "id": c.id,
        "name": "".join(part.capitalize() for part in c.id.split("-")),
        "shortDescription": {"text": title},
        "fullDescription": {"text": description},
        "help": {
            "text": f"{description}\n\nRemediation: {remediation}",
            "markdown": f"**{title}** ({c.category.value} {c.category.title}, "
            f"CWE-{c.cwe})\n\n{description}\n\n**Remediation:** {remediation}",
        },
        "defaultConfiguration": {"level": level(c.severity, fail_on)},
        "properties": props,
    }


def _result(
    f: Finding,
    index: dict[str, int],
    result: ScanResult,
    options: ReportOptions,
    fail_on: Severity | None,
) -> dict[str, Any]:
    lines = [clean(f.message)]
    if f.usages:
        lines.append(f"Operation: {clean(operation(f))}")
    if f.identity:
        lines.append(f"Sent as: {clean(f.identity)}")
    if f.curl:
        lines.append(f"Reproduce: {clean(f.curl)}")
    loc = f.location or Location(result.spec, "")
    physical: dict[str, Any] = {
        "artifactLocation": artifact(loc.file, options),
        "region": {"startLine": loc.line or 1},
    }
    if loc.line is not None and loc.column is not None:
        physical["region"]["startColumn"] = loc.column
    logical = (
        {"fullyQualifiedName": clean(f.usages[0].key), "kind": "function"}
        if f.usages
        else {"fullyQualifiedName": API_WIDE, "kind": "module"}
    )
    out: dict[str, Any] = {
        "ruleId": f.rule_id,
        "level": level(f.severity, fail_on),
        "message": {"text": "\n".join(lines)},
        "locations": [
            {
                "physicalLocation": physical,
                "logicalLocations": [logical],
            }
        ],
        "partialFingerprints": {FINGERPRINT_KEY: f.fingerprint},
        "properties": {
            "severity": f.severity.value,
            "confidence": f.confidence,
            "identity": clean(f.identity) if f.identity else None,
            "failsGate": fails(f, fail_on),
        },
    }
    if f.rule_id in index:
        out["ruleIndex"] = index[f.rule_id]
    return out
