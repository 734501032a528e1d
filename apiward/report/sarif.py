"""``--format sarif``: SARIF 2.1.0 for GitHub code scanning and other SARIF viewers.

One run for all specs (GitHub rejects several runs of one tool in one upload),
one ``rule`` per rule id with its OWASP category, CWE and a numeric
``security-severity``; each result points at the root cause (GitHub requires a
``startLine``: 1 when the position is unknown) and relates up to
``LOCATED_USAGES`` of the operations it affects. ``partialFingerprints`` carry
:attr:`Finding.fingerprint`, so alerts survive lines moving.
"""

from __future__ import annotations

import json
import os
import urllib.parse
from pathlib import Path
from typing import Any

from apiward import __version__
from apiward.audit.engine import LOCATED_USAGES
from apiward.audit.gate import AuditRun
from apiward.audit.rule import Rule
from apiward.core import Finding, Location, Severity
from apiward.report import reporter
from apiward.report.common import ReportOptions, clean, reflow

SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
SRCROOT = "%SRCROOT%"
FINGERPRINT_KEY = "apiwardFingerprint/v1"

LEVEL = {
    Severity.CRITICAL: "error",
    Severity.HIGH: "error",
    Severity.MEDIUM: "warning",
    Severity.LOW: "note",
    Severity.INFO: "note",
}
# GitHub: critical > 9.0, high 7.0-8.9, medium 4.0-6.9, low 0.1-3.9
SECURITY_SEVERITY = {
    Severity.CRITICAL: "9.5",
    Severity.HIGH: "8.0",
    Severity.MEDIUM: "5.5",
    Severity.LOW: "2.5",
}


@reporter("sarif")
def sarif(run: AuditRun, options: ReportOptions) -> str:
    """The run as a SARIF 2.1.0 log."""
    rules: dict[str, Rule] = {}
    for result in run.results:
        for r in result.rules:
            rules.setdefault(r.id, r)
    index = {rule_id: i for i, rule_id in enumerate(rules)}
    results = [_result(f, index, options) for result in run.results for f in result.findings]
    notifications = [
        {
            "level": "error",
            "message": {"text": f"rule {e.rule_id} failed: {clean(e.message)}"},
            "descriptor": {"id": e.rule_id},
        }
        for result in run.results
        for e in result.rule_errors
    ] + [{"level": "error", "message": {"text": clean(f.message)}} for f in run.failures]
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
                        "rules": [_rule(r) for r in rules.values()],
                    }
                },
                "originalUriBaseIds": {SRCROOT: {"uri": Path(options.cwd).as_uri() + "/"}},
                "invocations": [
                    {
                        "executionSuccessful": not notifications,
                        "toolExecutionNotifications": notifications,
                    }
                ],
                "columnKind": "unicodeCodePoints",
                "results": results,
                "properties": {
                    "scores": {_display_uri(r.spec, options): r.score.total for r in run.results}
                },
            }
        ],
    }
    return json.dumps(log, indent=2, ensure_ascii=False) + "\n"


def _rule(r: Rule) -> dict[str, Any]:
    tags = ["security", f"OWASP-{r.category.value}", f"external/cwe/cwe-{r.cwe}"]
    props: dict[str, Any] = {"tags": tags, "precision": "high", "group": r.group}
    if r.severity in SECURITY_SEVERITY:
        props["security-severity"] = SECURITY_SEVERITY[r.severity]
    description = reflow(r.description) or r.title
    return {
        "id": r.id,
        "name": "".join(part.capitalize() for part in r.id.split("-")),
        "shortDescription": {"text": r.title},
        "fullDescription": {"text": description},
        "help": {
            "text": f"{description}\n\nRemediation: {r.remediation}",
            "markdown": f"**{r.title}** ({r.category.value} {r.category.title}, "
            f"CWE-{r.cwe})\n\n{description}\n\n**Remediation:** {r.remediation}",
        },
        "defaultConfiguration": {"level": LEVEL[r.severity]},
        "properties": props,
    }


def _result(f: Finding, index: dict[str, int], options: ReportOptions) -> dict[str, Any]:
    n = len(f.usages)
    message = clean(f.message)
    if n > 1:
        message += f" (affects {n} operations)"
    out: dict[str, Any] = {
        "ruleId": f.rule_id,
        "level": LEVEL[f.severity],
        "message": {"text": message},
        "locations": [_location(f.location, options, logical=True)],
        "partialFingerprints": {FINGERPRINT_KEY: f.fingerprint},
        "properties": {"operations": n},
    }
    if f.rule_id in index:
        out["ruleIndex"] = index[f.rule_id]
    related = [
        {"id": i, **_location(u.location, options), "message": {"text": clean(u.key)}}
        for i, u in enumerate(f.usages[:LOCATED_USAGES])
        if u.location != f.location
    ]
    if related:
        out["relatedLocations"] = related
    return out


def _location(
    loc: Location | None, options: ReportOptions, logical: bool = False
) -> dict[str, Any]:
    if loc is None:
        return {}
    region: dict[str, int] = {"startLine": loc.line or 1}
    if loc.line is not None and loc.column is not None:
        region["startColumn"] = loc.column
    out: dict[str, Any] = {
        "physicalLocation": {"artifactLocation": artifact(loc.file, options), "region": region}
    }
    if logical:
        out["logicalLocations"] = [{"fullyQualifiedName": loc.pointer or "/", "kind": "member"}]
    return out


def artifact(file: str, options: ReportOptions) -> dict[str, str]:
    """A SARIF artifactLocation: relative to ``%SRCROOT%`` (the cwd) when under it."""
    if file.startswith(("http://", "https://")):
        return {"uri": file}
    if not os.path.isabs(file):
        return {"uri": urllib.parse.quote(file.replace(os.sep, "/"))}
    rel = os.path.relpath(file, options.cwd)
    if rel.startswith(".."):
        return {"uri": Path(file).as_uri()}
    return {"uri": urllib.parse.quote(rel.replace(os.sep, "/")), "uriBaseId": SRCROOT}


def _display_uri(file: str, options: ReportOptions) -> str:
    return artifact(file, options)["uri"]
