from __future__ import annotations

from dataclasses import replace

from apiward.core import Severity
from apiward.report import ReportOptions
from apiward.report.scan import render_scan
from apiward.report.scan.markdown import fenced
from apiward.scan.result import ScanResult


def markdown(result: ScanResult, options: ReportOptions) -> str:
    return render_scan("markdown", result, options, fail_on=Severity.HIGH)


def test_verdict_and_summary_table_come_first(result: ScanResult, options: ReportOptions) -> None:
    out = markdown(result, options)
    lines = out.splitlines()
    assert lines[0] == "### apiward scan: `http://127.0.0.1:8000` - **FAIL**"
    assert "Demo \\<Bank\\>" in lines[2] and "fail on: high" in lines[2]
    assert "Fails because: 3 findings at or above high; 1 check crashed (rate-limit)." in out
    assert "| OWASP API Top 10 (2023) | Critical | High | Medium | Low | Info | Total |" in out
    assert "| API1:2023 Broken Object Level Authorization | 1 | 2 | · | · | · | 3 |" in out
    assert "| **Total** | **1** | **2** | **1** | **1** | **1** | **6** |" in out
    assert "API2:2023" not in out
    assert "1 finding set aside by the baseline." in out


def test_findings_per_check_with_curl_in_code_blocks(
    result: ScanResult, options: ReportOptions
) -> None:
    out = markdown(result, options)
    assert out.index("<code>bola-write</code>") < out.index("<code>bola-read</code>")
    assert "<details open><summary>HIGH <code>bola-read</code>" in out
    assert "<details><summary>LOW <code>security-headers</code>" in out
    assert "❌ **HIGH** `GET /accounts/{id}` as `bob` (firm): bob read" in out
    assert "```sh\ncurl -i -X GET 'http://127.0.0.1:8000/bola-read'" in out
    assert "… 1 more (see the full report)" in out
    assert "**Fix:** Fix bola-read like this." in out
    assert "**LOW** `(whole API)`" in out


def test_text_from_the_api_cannot_inject_markdown(
    result: ScanResult, options: ReportOptions
) -> None:
    out = markdown(result, replace(options, verbose=True))
    assert "<script>" not in out.split("```http")[0]  # outside code blocks it is escaped
    assert "\\<script\\>" in out and "\\[link\\]" in out and "\\@someone" in out
    assert "\x1b" not in out


def test_a_code_block_cannot_be_closed_from_inside() -> None:
    assert fenced("a ``` b") == ["````", "a ``` b", "````"]
    assert fenced("plain", "sh") == ["```sh", "plain", "```"]


def test_problems_are_listed(result: ScanResult, options: ReportOptions) -> None:
    out = markdown(result, options)
    assert "**Error:** check `rate-limit` crashed" in out
    assert "Skipped: `account-delete` (--safe skips destructive checks)" in out
    assert "**Warning:** identity partner: the login answered 401" in out
