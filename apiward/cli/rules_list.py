"""``apiward audit --list-rules``: the rule catalogue, with this config's severities."""

from __future__ import annotations

import io
import json

from rich.console import Console
from rich.table import Table

from apiward.audit import RULES
from apiward.config import AuditSection
from apiward.errors import UsageError


def list_rules(section: AuditSection, fmt: str) -> str:
    """Every registered rule as ``text``, ``json`` or ``markdown``."""
    severities = section.severities
    rows = [
        {
            "id": r.id,
            "severity": "off"
            if r.id in section.disabled
            else severities.get(r.id, r.severity).value,
            "default_severity": r.severity.value,
            "category": r.category.short,
            "owasp": r.category.value,
            "cwe": r.cwe,
            "group": r.group,
            "title": r.title,
        }
        for r in sorted(RULES, key=lambda r: (r.category.short.zfill(5), r.id))
    ]
    if fmt == "json":
        return json.dumps(rows, indent=2) + "\n"
    if fmt == "markdown":
        lines = ["| Rule | Severity | OWASP | CWE | Group | Title |", "|---|---|---|---|---|---|"]
        lines += [
            f"| `{r['id']}` | {r['severity']} | {r['category']} | CWE-{r['cwe']} "
            f"| {r['group']} | {r['title']} |"
            for r in rows
        ]
        return "\n".join(lines) + "\n"
    if fmt != "text":
        raise UsageError(f"--list-rules prints text, json or markdown, not {fmt}")
    table = Table(box=None, pad_edge=False, header_style="bold", show_edge=False)
    for name in ("Rule", "Severity", "OWASP", "CWE", "Group", "Title"):
        table.add_column(name)
    for r in rows:
        table.add_row(
            str(r["id"]),
            str(r["severity"]),
            str(r["category"]),
            f"CWE-{r['cwe']}",
            str(r["group"]),
            str(r["title"]),
        )
    buf = io.StringIO()
    Console(file=buf, width=160, no_color=True, highlight=False, markup=False).print(table)
    return "\n".join(line.rstrip() for line in buf.getvalue().splitlines()) + "\n"
