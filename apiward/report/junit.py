"""``--format junit``: JUnit XML, for CI test-report views.

One ``testsuite`` per spec, one ``testcase`` per rule that ran. A finding at or
above ``--fail-on`` is a ``failure`` of its rule's test case, so the test view
and the exit code agree; findings below the bar are listed in the case's
``system-out``. A rule that crashed is an ``error``.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET

from apiward.audit.gate import AuditRun
from apiward.audit.result import AuditResult
from apiward.core import Finding
from apiward.report import reporter
from apiward.report.common import ReportOptions, clean, display_path, where


@reporter("junit")
def junit(run: AuditRun, options: ReportOptions) -> str:
    """The run as JUnit XML (``testsuites`` root)."""
    root = ET.Element("testsuites", name="apiward audit")
    totals = {"tests": 0, "failures": 0, "errors": 0}
    for result in run.results:
        suite = _suite(result, run, options)
        root.append(suite)
        for key in totals:
            totals[key] += int(suite.get(key, "0"))
    for failure in run.failures:
        suite = ET.SubElement(
            root, "testsuite", name=clean(failure.spec), tests="1", failures="0", errors="1"
        )
        case = ET.SubElement(suite, "testcase", name="load", classname="apiward.audit")
        ET.SubElement(case, "error", message=clean(failure.message), type="InputError")
        totals["tests"] += 1
        totals["errors"] += 1
    for key, value in totals.items():
        root.set(key, str(value))
    root.set("time", f"{sum(sum(r.timings.values()) for r in run.results):.3f}")
    ET.indent(root)
    return ET.tostring(root, encoding="unicode", xml_declaration=True) + "\n"


def _suite(result: AuditResult, run: AuditRun, options: ReportOptions) -> ET.Element:
    name = clean(display_path(result.spec, options.cwd))
    by_rule: dict[str, list[Finding]] = {}
    for f in result.findings:
        by_rule.setdefault(f.rule_id, []).append(f)
    errors = {e.rule_id: e for e in result.rule_errors}
    suite = ET.Element("testsuite", name=name)
    props = ET.SubElement(suite, "properties")
    ET.SubElement(props, "property", name="score", value=str(result.score.total))
    failed = 0
    for rule in result.rules:
        case = ET.SubElement(
            suite,
            "testcase",
            name=rule.id,
            classname=f"apiward.audit.{rule.category.short}",
            time=f"{result.timings.get(rule.id, 0.0):.3f}",
        )
        if rule.id in errors:
            err = errors[rule.id]
            ET.SubElement(case, "error", message=clean(err.message), type="RuleError").text = clean(
                err.traceback or err.message
            )
        findings = by_rule.get(rule.id, [])
        failing = [f for f in findings if run.fails(f.severity)]
        for f in failing:
            ET.SubElement(
                case, "failure", message=clean(f.message), type=f.severity.value
            ).text = _body(f, options)
        if failing:
            failed += 1
        below = [f for f in findings if not run.fails(f.severity)]
        if below:
            ET.SubElement(case, "system-out").text = "\n\n".join(_body(f, options) for f in below)
    suite.set("tests", str(len(result.rules)))
    suite.set("failures", str(failed))
    suite.set("errors", str(len(errors)))
    suite.set("skipped", "0")
    suite.set("time", f"{sum(result.timings.values()):.3f}")
    return suite


def _body(f: Finding, options: ReportOptions) -> str:
    lines = [
        f"{f.severity.value.upper()} {f.rule_id}: {clean(f.title)}",
        f"at {where(f.location, options.cwd)}",
        clean(f.message),
    ]
    if f.usages:
        keys = ", ".join(clean(u.key) for u in f.usages[:10])
        more = f", … {len(f.usages) - 10} more" if len(f.usages) > 10 else ""
        lines.append(f"affects {len(f.usages)} operation(s): {keys}{more}")
    if f.remediation:
        lines.append(f"fix: {clean(f.remediation)}")
    return "\n".join(lines)
