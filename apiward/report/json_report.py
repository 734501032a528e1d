"""``--format json``: every finding, stable and documented (docs/audit.md#json).

The shape only grows: fields are added, never renamed or removed, within one
``version``. Keys are written in a fixed order so diffs of reports stay small.
"""

from __future__ import annotations

import json
from typing import Any

from apiward import __version__
from apiward.audit.gate import AuditRun
from apiward.audit.result import AuditResult
from apiward.audit.rule import Rule
from apiward.core import Finding, Location
from apiward.report import reporter
from apiward.report.common import ReportOptions, display_path

JSON_VERSION = 1


@reporter("json")
def json_report(run: AuditRun, options: ReportOptions) -> str:
    """The whole run as one JSON document."""
    rules: dict[str, Rule] = {}
    for result in run.results:
        for r in result.rules:
            rules.setdefault(r.id, r)
    doc = {
        "version": JSON_VERSION,
        "tool": {"name": "apiward", "version": __version__},
        "passed": run.exit_code() == 0,
        "exit_code": run.exit_code(),
        "gate": {
            "fail_on": run.gate.fail_on.value if run.gate.fail_on else None,
            "min_score": run.gate.min_score,
        },
        "specs": [_result(r, run, options) for r in run.results],
        "errors": [{"spec": f.spec, "message": f.message} for f in run.failures],
        "rules": [_rule(r) for r in rules.values()],
    }
    return json.dumps(doc, indent=2, ensure_ascii=False) + "\n"


def _result(result: AuditResult, run: AuditRun, options: ReportOptions) -> dict[str, Any]:
    s = result.score
    return {
        "file": display_path(result.spec, options.cwd),
        "title": result.title,
        "openapi": result.version,
        "operations": result.operations,
        "score": {
            "total": s.total,
            "security": s.security,
            "data": s.data,
            "categories": {
                c.short: {"score": cs.score, "findings": cs.findings, "penalty": cs.penalty}
                for c, cs in s.categories.items()
            },
        },
        "counts": {sev.value: n for sev, n in result.counts.items()},
        "suppressed": {"ignore": result.ignored, "baseline": result.baselined},
        "baseline_fixed": result.baseline_fixed,
        "passed": not run.reasons(result) and result.complete,
        "reasons": run.reasons(result),
        "findings": [_finding(f, options) for f in result.findings],
        "rule_errors": [
            {"rule": e.rule_id, "message": e.message, "internal": e.internal}
            for e in result.rule_errors
        ],
        "warnings": result.warnings,
    }


def _finding(f: Finding, options: ReportOptions) -> dict[str, Any]:
    return {
        "rule": f.rule_id,
        "title": f.title,
        "severity": f.severity.value,
        "category": f.category.short,
        "owasp": f.category.value,
        "cwe": f.cwe,
        "message": f.message,
        "location": _location(f.location, options),
        "operations": [u.key for u in f.usages],
        "fingerprint": f.fingerprint,
    }


def _location(loc: Location | None, options: ReportOptions) -> dict[str, Any] | None:
    if loc is None:
        return None
    return {
        "file": display_path(loc.file, options.cwd),
        "pointer": loc.pointer,
        "line": loc.line,
        "column": loc.column,
    }


def _rule(r: Rule) -> dict[str, Any]:
    return {
        "id": r.id,
        "title": r.title,
        "severity": r.severity.value,
        "category": r.category.short,
        "owasp": r.category.value,
        "cwe": r.cwe,
        "group": r.group,
        "description": r.description,
        "remediation": r.remediation,
    }
