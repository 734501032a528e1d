"""The terminal text and Markdown reports, and the reporter registry."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from apiward.audit.gate import AuditRun
from apiward.errors import UsageError
from apiward.report import FORMATS, REPORTERS, ReportOptions, render
from apiward.report.common import clean, reflow
from apiward.report.markdown import md

ANSI = re.compile(r"\x1b\[[0-9;]*m")


def text(run: AuditRun, cwd: Path, **opts: object) -> str:
    return render("text", run, ReportOptions(cwd=str(cwd), **opts))  # type: ignore[arg-type]


def test_every_format_is_registered() -> None:
    assert REPORTERS.names() == list(FORMATS)
    with pytest.raises(UsageError, match="unknown report format 'sarif2'"):
        render("sarif2", AuditRun([]))


def test_text_summary_first_then_details_then_score(run: AuditRun, spec_path: Path) -> None:
    out = text(run, spec_path.parent)
    summary = out.index("Severity  Rule")
    details = out.index("HIGH  operation-without-security  Operation has no security")
    score = out.index("Score ")
    assert summary < details < score
    assert re.search(r"HIGH\s+operation-without-security\s+API2\s+14\s+14", out)
    assert out.rstrip().endswith("1 spec audited, 1 over the bar, 1 could not be read")
    assert "FAIL: 14 findings at or above high" in out
    assert "set aside: 1 by x-apiward-ignore" in out
    assert "error: rule t-boom failed" in out
    assert "api.json:11:5" in out and "api.json#/components/schemas/Name" in out


def test_text_limits_findings_per_rule(run: AuditRun, spec_path: Path) -> None:
    out = text(run, spec_path.parent, limit=2)
    assert out.count("declares no security requirement") == 2
    assert "… 12 more (--limit 0 or --verbose shows all)" in out
    assert text(run, spec_path.parent, limit=0).count("declares no security requirement") == 14


def test_text_verbose_shows_everything(run: AuditRun, spec_path: Path) -> None:
    out = text(run, spec_path.parent, verbose=True)
    assert out.count("declares no security requirement") == 14
    assert "fix: Declare a `security` requirement" in out
    assert "POST /p9" in out  # every operation of the shared finding
    assert "slowest rules:" in out


def test_text_colour_only_when_asked(run: AuditRun, spec_path: Path) -> None:
    plain = text(run, spec_path.parent)
    assert not ANSI.search(plain)
    coloured = text(run, spec_path.parent, color=True)
    assert ANSI.search(coloured)
    assert ANSI.sub("", coloured).split() == plain.split()


def test_spec_content_cannot_drive_the_terminal(run: AuditRun, spec_path: Path) -> None:
    for fmt in ("text", "markdown", "junit"):
        out = render(fmt, run, ReportOptions(cwd=str(spec_path.parent)))
        assert "\x1b" not in out and "\u202e" not in out, fmt
    assert "\\u001b[31mred" in text(run, spec_path.parent)


def test_no_trailing_blanks(run: AuditRun, spec_path: Path) -> None:
    assert all(line == line.rstrip() for line in text(run, spec_path.parent).splitlines())


def test_a_clean_result_says_so(spec_path: Path) -> None:
    from apiward.audit import AuditConfig, audit
    from apiward.core import load

    result = audit(load(str(spec_path)), AuditConfig(only=frozenset({"numeric-object-id"})))
    out = text(AuditRun([result]), spec_path.parent)
    assert "No findings." in out and "Score 100/100" in out and out.rstrip().endswith("PASS")


def test_markdown_for_pull_requests(run: AuditRun, spec_path: Path) -> None:
    out = render("markdown", run, ReportOptions(cwd=str(spec_path.parent), limit=2))
    assert out.startswith("### apiward audit: `api.json` - **FAIL**, score ")
    assert "| Severity | Rule | OWASP | Findings | Operations |" in out
    assert "| HIGH | `operation-without-security` Operation has no security" in out
    assert "<details><summary>HIGH <code>operation-without-security</code>" in out
    assert "- … 12 more" in out
    assert "**error:** missing.yaml: cannot read" in out
    assert "| API1 Broken Object Level Authorization | not assessed | 0 |" in out


def test_markdown_escapes_spec_text(run: AuditRun, spec_path: Path) -> None:
    out = render("markdown", run, ReportOptions(cwd=str(spec_path.parent)))
    assert "<script>" not in out and "\\<script\\>" in out
    assert "[link](http://x)" not in out and "\\@someone" in out
    assert md("a|b") == "a\\|b"


def test_clean_and_reflow() -> None:
    assert clean("ok\ttab\nline") == "ok\ttab\nline"
    assert clean("\x07\x9b\u2066\ud800") == "\\u0007\\u009b\\u2066\\ud800"
    assert reflow("one\ntwo\n\nthree  four\n") == "one two\n\nthree four"
