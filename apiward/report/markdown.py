"""``--format markdown``: a compact report for pull-request comments (GitHub-flavoured).

Summary table first, details per rule folded in ``<details>`` (``--limit`` per
rule), OWASP breakdown last. Text from the spec is escaped: a description
cannot inject links, images, HTML or @-mentions into the comment.
"""

from __future__ import annotations

import re

from apiward.audit.gate import AuditRun
from apiward.audit.result import AuditResult
from apiward.core import Finding
from apiward.report import reporter
from apiward.report.common import ReportOptions, RuleGroup, by_rule, clean, display_path, where

_SPECIAL = re.compile(r"([\\`*_{}\[\]<>|~#@!])")


def md(text: str) -> str:
    """Escape ``text`` for inline Markdown (one line)."""
    return _SPECIAL.sub(r"\\\1", clean(text)).replace("\n", " ")


def code(text: str) -> str:
    """``text`` as an inline code span (backticks inside become quotes)."""
    return "`" + clean(text).replace("`", "'").replace("\n", " ") + "`"


@reporter("markdown")
def markdown(run: AuditRun, options: ReportOptions) -> str:
    """The run as Markdown."""
    parts = [_result(r, run, options) for r in run.results]
    parts += [f"**error:** {md(f.message)}" for f in run.failures]
    return "\n\n".join(parts).rstrip() + "\n"


def _result(result: AuditResult, run: AuditRun, options: ReportOptions) -> str:
    s = result.score
    reasons = run.reasons(result)
    verdict = "FAIL" if reasons else ("INCOMPLETE" if result.rule_errors else "PASS")
    name = code(display_path(result.spec, options.cwd))
    out = [f"### apiward audit: {name} - **{verdict}**, score {s.total}/100", ""]
    facts = [f"security {s.security}/30", f"data validation {s.data}/70"]
    facts += [f"{n} {sev.value}" for sev, n in result.counts.items() if n]
    if result.ignored:
        facts.append(f"{result.ignored} set aside by x-apiward-ignore")
    if result.baselined:
        facts.append(f"{result.baselined} in the baseline")
    out.append(" · ".join(facts))
    if reasons:
        out += ["", "Fails because: " + "; ".join(reasons) + "."]
    for err in result.rule_errors:
        out += ["", f"**error:** rule {code(err.rule_id)} failed: {md(err.message)}"]
    groups = by_rule(result)
    if not groups:
        out += ["", "No findings."]
    else:
        out += [
            "",
            "| Severity | Rule | OWASP | Findings | Operations |",
            "|---|---|---|---:|---:|",
        ]
        for g in groups:
            out.append(
                f"| {g.rule.severity.value.upper()} | {code(g.rule.id)} {md(g.rule.title)} "
                f"| {g.rule.category.short} | {len(g.findings)} | {g.operations} |"
            )
        for g in groups:
            out += ["", *_details(g, options)]
    out += ["", *_categories(result)]
    return "\n".join(out)


def _details(group: RuleGroup, options: ReportOptions) -> list[str]:
    rule, n = group.rule, len(group.findings)
    out = [
        f"<details><summary>{rule.severity.value.upper()} <code>{rule.id}</code>: "
        f"{md(rule.title)} ({n})</summary>",
        "",
    ]
    limit = options.per_rule
    shown = group.findings if limit is None else group.findings[:limit]
    out += [_finding(f, options) for f in shown]
    if len(shown) < n:
        out.append(f"- … {n - len(shown)} more")
    if rule.remediation:
        out += ["", f"**Fix:** {md(rule.remediation)}"]
    out += ["", "</details>"]
    return out


def _finding(f: Finding, options: ReportOptions) -> str:
    line = f"- {code(where(f.location, options.cwd))} {md(f.message)}"
    if len(f.usages) > 1:
        keys = ", ".join(code(u.key) for u in f.usages[:3])
        more = f" and {len(f.usages) - 3} more" if len(f.usages) > 3 else ""
        line += f" (affects {len(f.usages)} operations: {keys}{more})"
    return line


def _categories(result: AuditResult) -> list[str]:
    out = [
        "<details><summary>OWASP API Security Top 10 (2023)</summary>",
        "",
        "| Category | Score | Findings |",
        "|---|---:|---:|",
    ]
    for cat, cs in result.score.categories.items():
        score = "not assessed" if cs.score is None else str(cs.score)
        out.append(f"| {cat.short} {cat.title} | {score} | {cs.findings} |")
    return [*out, "", "</details>"]
