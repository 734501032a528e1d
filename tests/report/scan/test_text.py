from __future__ import annotations

from dataclasses import replace

from apiward.core import Severity
from apiward.report import ReportOptions
from apiward.report.scan import render_scan
from apiward.scan.result import ScanResult


def text(
    result: ScanResult, options: ReportOptions, fail_on: Severity | None = Severity.HIGH
) -> str:
    return render_scan("text", result, options, fail_on=fail_on)


def test_header_says_what_was_scanned(result: ScanResult, options: ReportOptions) -> None:
    lines = text(result, options).splitlines()
    assert lines[0] == "apiward scan  http://127.0.0.1:8000"
    assert lines[1] == (
        "Demo <Bank> · spec openapi.yaml · as alice, bob, admin · 412 requests in 12.3s · 6 checks"
    )
    assert "findings at or above high fail the run (marked ✗)" in lines[2]


def test_findings_are_grouped_by_category_worst_first(
    result: ScanResult, options: ReportOptions
) -> None:
    out = text(result, options)
    headings = [line for line in out.splitlines() if line.startswith("API")]
    assert headings == [
        "API1:2023 Broken Object Level Authorization  (3)",
        "API3:2023 Broken Object Property Level Authorization  (1)",
        "API8:2023 Security Misconfiguration  (2)",
    ]
    api1 = out.split("API1:2023")[1].split("API3:2023")[0]
    assert api1.index("CRITICAL  bola-write") < api1.index("HIGH      bola-read")
    assert "  ✗ CRITICAL  bola-write  Title of bola-write\n" in api1
    assert "      PUT /accounts/{id} · as bob · firm confidence · openapi.yaml:40:5" in api1
    assert "      $ curl -i -X GET 'http://127.0.0.1:8000/bola-write'" in api1
    # limit 1 per check: the second bola-read finding is summarised
    assert "  … 1 more of bola-read (--limit 0 or --verbose shows all)" in api1
    assert "alice's card" not in out
    assert "    LOW       security-headers" in out  # below the bar: no mark
    assert "      (whole API) · firm confidence\n" in out


def test_summary_and_verdict_close_the_report(result: ScanResult, options: ReportOptions) -> None:
    options = replace(options, width=200)
    lines = text(result, options).splitlines()
    assert lines[-2] == (
        "6 findings (1 critical, 2 high, 1 medium, 1 low, 1 info) · 1 more in the baseline · "
        "6 checks ran, 1 skipped, 1 crashed"
    )
    assert lines[-1] == "FAIL: 3 findings at or above high; 1 check crashed (rate-limit)"
    result.errors.clear()
    assert text(result, options, None).splitlines()[-1] == "PASS (no severity gate)"


def test_problems_are_reported(result: ScanResult, options: ReportOptions) -> None:
    out = text(result, options)
    assert "error: check rate-limit crashed: RuntimeError: boom \\u001b[2J" in out
    assert "skipped: account-delete: --safe skips destructive checks" in out
    assert "warning: identity partner: the login answered 401" in out
    assert "Traceback" not in out


def test_nothing_from_the_api_reaches_the_terminal_raw(
    result: ScanResult, options: ReportOptions
) -> None:
    for opts in (options, replace(options, color=True, verbose=True)):
        out = text(result, opts)
        assert "\x1b[31m" not in out and "\x1b[2J" not in out
        assert "\\u001b[31mred" in out


def test_verbose_shows_every_finding_with_evidence_and_fix(
    result: ScanResult, options: ReportOptions
) -> None:
    out = text(result, replace(options, verbose=True))
    assert "alice's card" in out
    assert "evidence 1: bob read alice's account" in out
    assert "        > GET /accounts/1001 HTTP/1.1" in out
    assert "        > Authorization: Bearer ***" in out
    assert "        < HTTP/1.1 200" in out
    assert "\r" not in out
    assert "evidence 2: second call confirmed it" in out
    assert "fix (bola-read): Fix bola-read like this." in out
    assert "CWE-639 · fingerprint " in out
    assert "Traceback ...\nboom" in out


def test_a_long_curl_stays_on_one_line(result: ScanResult, options: ReportOptions) -> None:
    result.findings[0].curl = "curl " + "x" * 300
    out = text(result, replace(options, width=80))
    assert "$ curl " + "x" * 300 in out
