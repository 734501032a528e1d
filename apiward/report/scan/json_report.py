"""``apiward scan --format json``: the whole scan as one JSON document.

Each finding is :func:`~apiward.scan.store.finding_to_dict` (the shape of the
scan state file), so ``finding_from_dict`` reads it back: a report is also a
baseline source. The shape only grows: fields are added, never renamed or
removed, within one ``format``. Keys are written in a fixed order so diffs of
reports stay small.
"""

from __future__ import annotations

import json
from typing import Any

from apiward import __version__
from apiward.core import Severity
from apiward.report.common import ReportOptions, display_path
from apiward.report.scan import scan_reporter
from apiward.report.scan.common import (
    category_counts,
    checks_run,
    fails,
    severity_counts,
    verdict,
)
from apiward.scan.result import ScanResult
from apiward.scan.store import finding_to_dict

FORMAT = 1


@scan_reporter("json")
def json_report(result: ScanResult, options: ReportOptions, fail_on: Severity | None) -> str:
    """The scan as one JSON document."""
    outcome = verdict(result, fail_on)
    doc: dict[str, Any] = {
        "tool": "apiward",
        "version": __version__,
        "kind": "scan",
        "format": FORMAT,
        "spec": display_path(result.spec, options.cwd),
        "title": result.title,
        "target": result.target,
        "identities": result.identities,
        "requests": result.requests,
        "duration_s": round(result.duration, 3),
        "complete": result.complete,
        "budget_exhausted": result.budget_exhausted,
        "fail_on": fail_on.value if fail_on is not None else None,
        "verdict": outcome.status,
        "reasons": outcome.reasons,
        "summary": {
            "total": len(result.findings),
            "failing": sum(1 for f in result.findings if fails(f, fail_on)),
            "by_severity": {s.value: n for s, n in severity_counts(result.findings).items()},
            "by_category": {
                cat.value: {
                    "title": cat.title,
                    "total": sum(counts.values()),
                    "by_severity": {s.value: n for s, n in counts.items()},
                }
                for cat, counts in category_counts(result.findings).items()
            },
        },
        "findings": [finding_to_dict(f) for f in result.findings],
        "baselined": len(result.baselined),
        "resumed": result.resumed,
        "errors": [
            {"check": e.check_id, "message": e.message, "traceback": e.traceback}
            for e in result.errors
        ],
        "skipped": dict(result.skipped),
        "warnings": result.warnings,
        "checks": [
            {
                "id": c.id,
                "title": c.title,
                "severity": c.severity.value,
                "category": c.category.value,
                "cwe": c.cwe,
                "findings": sum(1 for f in result.findings if f.rule_id == c.id),
            }
            for c in checks_run(result)
        ],
    }
    return json.dumps(doc, indent=2, ensure_ascii=False) + "\n"
