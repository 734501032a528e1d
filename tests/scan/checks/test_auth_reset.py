"""reset-token-exposed on the demo bank."""

from __future__ import annotations

from apiward.core import Document, Severity
from tests.scan.conftest import scan_demo

CHECK = "reset-token-exposed"


def test_fires_on_the_vulnerable_demo(demo_doc: Document, vulnerable: str) -> None:
    [finding] = scan_demo(demo_doc, vulnerable, CHECK).findings
    assert [u.key for u in finding.usages] == ["POST /auth/password-reset"]
    assert finding.severity is Severity.CRITICAL and finding.confidence == "certain"
    assert finding.key == "reset_token"
    # asked for a configured identity's own address (read from its profile), as nobody
    request = finding.evidence[0].request or ""
    assert "@demobank.example" in request and "Authorization" not in request


def test_quiet_on_the_secure_demo(demo_doc: Document, secure: str) -> None:
    assert scan_demo(demo_doc, secure, CHECK).findings == []
