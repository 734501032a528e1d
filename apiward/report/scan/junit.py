"""``apiward scan --format junit``: JUnit XML, for CI test-report views.

One ``testsuite`` for the scan, one ``testcase`` per check. A finding at or
above ``--fail-on`` is a ``failure`` of its check's case, with the message and
the ``curl`` that reproduces it, so the test view and the exit code agree;
findings below the bar are listed in the case's ``system-out``. A check that
crashed is an ``error``; a check that did not run is ``skipped``.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET

from apiward.core import Finding, Severity
from apiward.report.common import ReportOptions, clean, display_path, where
from apiward.report.scan import scan_reporter
from apiward.report.scan.common import check_index, fails, operation
from apiward.scan.result import ScanResult


@scan_reporter("junit")
def junit(result: ScanResult, options: ReportOptions, fail_on: Severity | None) -> str:
    """The scan as JUnit XML (``testsuites`` root)."""
    root = ET.Element("testsuites", name="apiward scan")
    suite = ET.SubElement(
        root, "testsuite", name=clean(f"{display_path(result.spec, options.cwd)} @ {result.target}")
    )
    props = ET.SubElement(suite, "properties")
    facts = {
        "target": result.target,
        "identities": ", ".join(result.identities),
        "requests": str(result.requests),
        "fail_on": fail_on.value if fail_on is not None else "none",
        "baselined": str(len(result.baselined)),
        "budget_exhausted": str(result.budget_exhausted).lower(),
    }
    for name, value in facts.items():
        ET.SubElement(props, "property", name=name, value=clean(value))
    by_check: dict[str, list[Finding]] = {}
    for f in result.findings:
        by_check.setdefault(f.rule_id, []).append(f)
    errors: dict[str, list[str]] = {}
    for e in result.errors:
        errors.setdefault(e.check_id, []).append(e.traceback or e.message)
    messages = {e.check_id: e.message for e in result.errors}
    counts = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}
    checks = check_index(result)
    for cid in [*checks, *(c for c in errors if c not in checks)]:
        check = checks.get(cid)
        category = check.category.short if check is not None else "unknown"
        case = ET.SubElement(suite, "testcase", name=cid, classname=f"apiward.scan.{category}")
        counts["tests"] += 1
        findings = by_check.get(cid, [])
        if cid in result.skipped and not findings and cid not in errors:
            ET.SubElement(case, "skipped", message=clean(result.skipped[cid]))
            counts["skipped"] += 1
            continue
        if cid in errors:
            ET.SubElement(
                case, "error", message=clean(messages[cid]), type="CheckError"
            ).text = clean("\n\n".join(errors[cid]))
            counts["errors"] += 1
        failing = [f for f in findings if fails(f, fail_on)]
        for f in failing:
            ET.SubElement(
                case, "failure", message=clean(f.message), type=f.severity.value
            ).text = _body(f, options)
        if failing:
            counts["failures"] += 1
        below = [f for f in findings if not fails(f, fail_on)]
        if below:
            ET.SubElement(case, "system-out").text = "\n\n".join(_body(f, options) for f in below)
    for element in (root, suite):
        for key, count in counts.items():
            element.set(key, str(count))
        element.set("time", f"{result.duration:.3f}")
    ET.indent(root)
    return ET.tostring(root, encoding="unicode", xml_declaration=True) + "\n"


def _body(f: Finding, options: ReportOptions) -> str:
    lines = [
        f"{f.severity.value.upper()} {f.rule_id}: {clean(f.title)} ({f.confidence})",
        f"operation: {clean(operation(f))}",
    ]
    if f.location is not None:
        lines.append(f"at {where(f.location, options.cwd)}")
    if f.identity:
        lines.append(f"sent as: {clean(f.identity)}")
    lines.append(clean(f.message))
    if f.curl:
        lines.append(f"reproduce: {clean(f.curl)}")
    if f.remediation:
        lines.append(f"fix: {clean(f.remediation)}")
    return "\n".join(lines)
