from __future__ import annotations

import base64
import hashlib
import re
from html.parser import HTMLParser

from apiward.core import Owasp, Severity
from apiward.report import ReportOptions
from apiward.report.scan import render_scan
from apiward.report.scan.html import owasp_url
from apiward.report.scan.html_assets import SCRIPT
from apiward.scan.result import ScanResult

VOID = {"meta", "br", "hr", "img", "input", "link"}


class Page(HTMLParser):
    """Checks the tags nest, and collects ids, links, scripts and the visible text."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[str] = []
        self.ids: list[str] = []
        self.hrefs: list[str] = []
        self.scripts: list[str] = []
        self.srcs: list[str] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if "id" in found:
            self.ids.append(found["id"] or "")
        if "href" in found:
            self.hrefs.append(found["href"] or "")
        if "src" in found:
            self.srcs.append(found["src"] or "")
        if tag not in VOID:
            self.stack.append(tag)

    def handle_endtag(self, tag: str) -> None:
        assert self.stack and self.stack[-1] == tag, f"</{tag}> closes <{self.stack[-1:]}>"
        self.stack.pop()

    def handle_data(self, data: str) -> None:
        if self.stack and self.stack[-1] == "script":
            self.scripts.append(data)
        else:
            self.text.append(data)


def page(result: ScanResult, options: ReportOptions) -> tuple[str, Page]:
    out = render_scan("html", result, options, fail_on=Severity.HIGH)
    parsed = Page()
    parsed.feed(out)
    parsed.close()
    assert parsed.stack == []
    return out, parsed


def test_the_page_is_well_formed_and_self_contained(
    result: ScanResult, options: ReportOptions
) -> None:
    out, parsed = page(result, options)
    assert out.startswith("<!doctype html>")
    assert parsed.srcs == [] and "<link" not in out and "@import" not in out
    assert "url(" not in out
    external = [h for h in parsed.hrefs if not h.startswith("#")]
    assert all(h.startswith(("https://owasp.org/", "https://cwe.mitre.org/")) for h in external)
    assert parsed.scripts == [SCRIPT]
    digest = base64.b64encode(hashlib.sha256(SCRIPT.encode()).digest()).decode()
    assert f"script-src 'sha256-{digest}'" in out and "default-src 'none'" in out


def test_everything_from_the_api_is_escaped(result: ScanResult, options: ReportOptions) -> None:
    out, parsed = page(result, options)
    assert "<script>alert(1)</script>" not in out
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in out
    assert "Demo &lt;Bank&gt;" in out
    assert "\x1b" not in out and "\\u001b[2J" in out
    visible = "".join(parsed.text)
    assert "<script>alert(1)</script>" in visible  # shown as text, not run


def test_header_summary_and_table(result: ScanResult, options: ReportOptions) -> None:
    out, parsed = page(result, options)
    visible = " ".join("".join(parsed.text).split())
    assert '<div class="verdict verdict-FAIL">FAIL' in out
    assert "3 findings at or above high; 1 check crashed (rate-limit)" in visible
    facts = [
        "http://127.0.0.1:8000",
        "openapi.yaml",
        "412 in 12.3s",
        "alice, bob, admin",
        "6 checks ran, 1 skipped, 1 crashed",
        "high and above",
        "1 finding set aside",
    ]
    assert [f for f in facts if f not in visible] == []
    # severity tiles and one chart row per OWASP category
    assert re.search(r'tile sev-critical"><b>1</b>', out)
    assert out.count('<div class="label"') == 10
    assert "not tested by the checks that ran" in out  # API2 has no check
    assert "not tested: its checks crashed" in out  # API4's rate-limit
    assert 'aria-label="1 critical, 2 high"' in out
    assert "Findings (6)" in visible


def test_the_table_links_to_a_section_per_finding(
    result: ScanResult, options: ReportOptions
) -> None:
    _, parsed = page(result, options)
    anchors = [h for h in parsed.hrefs if h.startswith("#f-")]
    assert set(anchors) == {f"#f-{i}" for i in range(1, 7)}
    assert all(a[1:] in parsed.ids for a in anchors)


def test_a_finding_section_has_everything_to_act_on_it(
    result: ScanResult, options: ReportOptions
) -> None:
    out, _ = page(result, options)
    section = out.split('id="f-2"')[1].split("</article>")[0]
    assert '<span class="badge sev-high">HIGH</span>' in section
    assert "fails the run" in section
    assert 'href="https://cwe.mitre.org/data/definitions/639.html">CWE-639</a>' in section
    assert "API1:2023 Broken Object Level Authorization" in section
    assert "GET /accounts/{id}" in section and "openapi.yaml:20:5" in section
    assert "<dd>bob</dd>" in section and "<dd>firm</dd>" in section
    assert "Fix bola-read like this." in section
    assert "<details><summary>Evidence 1: bob read alice&#x27;s account</summary>" in section
    assert "<pre>GET /accounts/1001 HTTP/1.1\nHost: 127.0.0.1" in section
    assert '<pre class="curl">curl -i -X GET &#x27;http://127.0.0.1:8000/bola-read&#x27;' in section
    wide = out.split('id="f-5"')[1].split("</article>")[0]
    assert "(whole API)" in wide and "In the spec" not in wide
    assert "Sent as" not in wide


def test_checks_and_problems(result: ScanResult, options: ReportOptions) -> None:
    out, _ = page(result, options)
    checks = out.split('id="checks"')[1].split("</section>")[0]
    assert checks.count("<tr>") == 8
    assert "skipped: --safe skips destructive checks" in checks
    assert "crashed" in checks and "2 findings" in checks
    problems = out.split('id="problems"')[1]
    assert "rate-limit</code> crashed: RuntimeError: boom \\u001b[2J" in problems
    assert "the login answered 401" in problems


def test_owasp_links() -> None:
    assert owasp_url(Owasp.API1) == (
        "https://owasp.org/API-Security/editions/2023/en/0xa1-broken-object-level-authorization/"
    )
    assert owasp_url(Owasp.API10).startswith(
        "https://owasp.org/API-Security/editions/2023/en/0xaa-unsafe-consumption-of-apis"
    )


def test_a_passing_run_without_a_gate(result: ScanResult, options: ReportOptions) -> None:
    result.errors.clear()
    result.budget_exhausted = True
    out = render_scan("html", result, options, fail_on=None)
    assert '<div class="verdict verdict-PASS">PASS</div>' in out
    assert "Incomplete: the request budget ran out after 412 requests; no severity gate." in out
    assert "<dt>Fails the run</dt><dd>nothing</dd>" in out
    assert "fails the run" not in out and "--budget" in out
