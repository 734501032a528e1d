"""The rules reference (``docs/rules.md``), generated from the registry.

Regenerate with ``python -m apiward.audit.reference > docs/rules.md``; a test
fails when the committed file is out of date.
"""

from __future__ import annotations

import sys

from apiward.audit.rule import RULES, Rule

__all__ = ["rules_reference"]


def _ordered() -> list[Rule]:
    return sorted(RULES, key=lambda r: (int(r.category.short[3:]), r.id))


def rules_reference() -> str:
    lines = [
        "# Audit rules",
        "",
        "Generated from the rule registry by `python -m apiward.audit.reference`; do not edit.",
        "Disable a rule or change its severity in `apiward.yaml` (see config.md), or",
        "suppress it at a node of the spec with `x-apiward-ignore: [rule-id]`.",
        "",
        "| Rule | Severity | OWASP 2023 | CWE | Group |",
        "|---|---|---|---|---|",
    ]
    rules = _ordered()
    lines += [
        f"| [`{r.id}`](#{r.id}) | {r.severity.value} | {r.category.short} {r.category.title} "
        f"| CWE-{r.cwe} | {r.group} |"
        for r in rules
    ]
    for r in rules:
        lines += [
            "",
            f"## {r.id}",
            "",
            f"**{r.title}.** {r.severity.value}, {r.category.value} ({r.category.title}), "
            f"[CWE-{r.cwe}](https://cwe.mitre.org/data/definitions/{r.cwe}.html)",
            "",
            r.description,
            "",
            f"*Remediation:* {r.remediation}",
        ]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    sys.stdout.write(rules_reference())
