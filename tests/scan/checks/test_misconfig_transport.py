"""trace-enabled and plain-http: the demo bank, and the plain-HTTP decision on URLs."""

from __future__ import annotations

import pytest

from apiward.core import Document, Severity
from apiward.scan.checks.misconfig_transport import is_loopback, plain_http_risk
from tests.scan.conftest import rule_ids, scan_demo


def test_trace_fires_on_the_vulnerable_demo(demo_doc: Document, vulnerable: str) -> None:
    findings = scan_demo(demo_doc, vulnerable, "trace-enabled", "plain-http").findings
    assert [f.rule_id for f in findings] == ["trace-enabled"]
    assert findings[0].confidence == "certain"


def test_quiet_on_the_secure_demo(demo_doc: Document, secure: str) -> None:
    assert rule_ids(scan_demo(demo_doc, secure, "trace-enabled", "plain-http")) == set()


@pytest.mark.parametrize(
    "host",
    [
        "localhost",
        "LOCALHOST.",
        "api.localhost",
        "127.0.0.1",
        "127.3.2.1",
        "[::1]",
        "::ffff:127.0.0.1",
    ],
)
def test_loopback(host: str) -> None:
    assert is_loopback(host)


@pytest.mark.parametrize("host", ["example.com", "10.0.0.1", "localhost.example.com", "::2"])
def test_not_loopback(host: str) -> None:
    assert not is_loopback(host)


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("http://127.0.0.1:8000", None),
        ("http://localhost./api", None),
        ("http://[::1]:8080", None),
        ("https://api.example.com", None),
        ("http://0.0.0.0:8000", None),
        ("http://api.example.com/v1", Severity.HIGH),
        ("HTTP://8.8.8.8", Severity.HIGH),
        ("http://192.168.1.20:5000", Severity.LOW),
        ("http://vampi:5000", Severity.LOW),
        ("http://api.internal", Severity.LOW),
    ],
)
def test_plain_http_risk(url: str, expected: Severity | None) -> None:
    risk = plain_http_risk(url)
    assert (risk[0] if risk else None) == expected
