"""``apiward scan --format markdown``: for pull-request comments and GitHub job summaries.

The verdict and a summary table by OWASP category and severity first, then the
findings of each check folded in ``<details>`` (open when they fail the run),
each with its ``curl`` in a code block. Text from the spec or the server is
escaped: a response cannot inject links, images, HTML or @-mentions, and a
code block cannot be closed from inside.
"""

from __future__ import annotations

import re

from apiward.core import Finding, Severity
from apiward.report.common import ReportOptions, clean, display_path
from apiward.report.markdown import code, md
from apiward.report.scan import scan_reporter
from apiward.report.scan.common import (
    SEVERITIES,
    category_counts,
    check_index,
    checks_run,
    fails,
    operation,
    plural,
    verdict,
)
from apiward.scan.result import ScanResult

_TICKS = re.compile(r"`+")


def fenced(text: str, lang: str = "") -> list[str]:
    """``text`` as a fenced code block whose fence no run of backticks inside can close."""
    body = clean(text.replace("\r\n", "\n"))
    longest = max((len(m.group()) for m in _TICKS.finditer(body)), default=0)
    fence = "`" * max(3, longest + 1)
    return [fence + lang, body, fence]


@scan_reporter("markdown")
def markdown(result: ScanResult, options: ReportOptions, fail_on: Severity | None) -> str:
    """The scan as GitHub-flavoured Markdown."""
    outcome = verdict(result, fail_on)
    out = [f"### apiward scan: {code(result.target)} - **{outcome.status}**", ""]
    facts = [f"spec {code(display_path(result.spec, options.cwd))}"]
    if result.title:
        facts.insert(0, md(result.title))
    if result.identities:
        facts.append("as " + ", ".join(code(i) for i in result.identities))
    facts.append(f"{plural(result.requests, 'request')} in {result.duration:.1f}s")
    facts.append(f"{plural(len(checks_run(result)), 'check')} ran")
    facts.append(f"fail on: {fail_on.value if fail_on is not None else 'none'}")
    out.append(" · ".join(facts))
    if outcome.reasons:
        out += ["", "Fails because: " + "; ".join(md(r) for r in outcome.reasons) + "."]
    for note in outcome.notes:
        out += ["", f"> **Note:** {md(note)}"]
    out += ["", *_summary(result)]
    checks = check_index(result)
    by_check: dict[str, list[Finding]] = {}
    for f in result.findings:
        by_check.setdefault(f.rule_id, []).append(f)
    for cid, findings in sorted(
        by_check.items(), key=lambda kv: (-max(f.severity.rank for f in kv[1]), kv[0])
    ):
        check = checks[cid]
        failing = any(fails(f, fail_on) for f in findings)
        out += [
            "",
            f"<details{' open' if failing else ''}><summary>{check.severity.value.upper()} "
            f"<code>{cid}</code>: {md(check.title)} ({len(findings)}) - "
            f"{check.category.value}, CWE-{check.cwe}</summary>",
        ]
        limit = options.per_rule
        shown = findings if limit is None else findings[:limit]
        for f in shown:
            out += ["", *_finding(f, options, fail_on)]
        if len(shown) < len(findings):
            out += ["", f"… {len(findings) - len(shown)} more (see the full report)"]
        if check.remediation:
            out += ["", f"**Fix:** {md(check.remediation)}"]
        out += ["", "</details>"]
    out += _problems(result)
    return "\n".join(out).rstrip() + "\n"


def _summary(result: ScanResult) -> list[str]:
    if not result.findings:
        lines = ["No findings."]
    else:
        head = " | ".join(s.value.capitalize() for s in SEVERITIES)
        lines = [
            f"| OWASP API Top 10 (2023) | {head} | Total |",
            "|---|" + "---:|" * (len(SEVERITIES) + 1),
        ]
        totals = dict.fromkeys(SEVERITIES, 0)
        for cat, counts in category_counts(result.findings).items():
            if not any(counts.values()):
                continue
            for s, n in counts.items():
                totals[s] += n
            cells = " | ".join(str(n) if n else "·" for n in counts.values())
            lines.append(f"| {cat.value} {cat.title} | {cells} | {sum(counts.values())} |")
        cells = " | ".join(f"**{n}**" for n in totals.values())
        lines.append(f"| **Total** | {cells} | **{sum(totals.values())}** |")
    if result.baselined:
        lines += ["", f"{plural(len(result.baselined), 'finding')} set aside by the baseline."]
    return lines


def _finding(f: Finding, options: ReportOptions, fail_on: Severity | None) -> list[str]:
    mark = "❌ " if fails(f, fail_on) else ""
    head = f"{mark}**{f.severity.value.upper()}** {code(operation(f))}"
    if f.identity:
        head += f" as {code(f.identity)}"
    head += f" ({md(f.confidence)}): {md(f.message)}"
    out = [head]
    if f.curl:
        out += ["", *fenced(f.curl, "sh")]
    if options.verbose and f.evidence:
        out += ["", "<details><summary>Evidence</summary>"]
        for ev in f.evidence:
            if ev.note:
                out += ["", md(ev.note)]
            for part in (ev.request, ev.response):
                if part:
                    out += ["", *fenced(part, "http")]
        out += ["", "</details>"]
    return out


def _problems(result: ScanResult) -> list[str]:
    out: list[str] = []
    for err in result.errors:
        out += ["", f"**Error:** check {code(err.check_id)} crashed: {md(err.message)}"]
    if result.skipped:
        skipped = "; ".join(f"{code(k)} ({md(v)})" for k, v in result.skipped.items())
        out += ["", f"Skipped: {skipped}"]
    for warning in result.warnings:
        out += ["", f"**Warning:** {md(warning)}"]
    return out
