"""security-headers-missing and server-banner against the demo bank."""

from __future__ import annotations

from apiward.core import Document
from tests.scan.conftest import scan_demo

CHECKS = ("security-headers-missing", "server-banner")


def test_both_fire_on_the_vulnerable_demo(demo_doc: Document, vulnerable: str) -> None:
    findings = {f.rule_id: f for f in scan_demo(demo_doc, vulnerable, *CHECKS).findings}
    assert set(findings) == set(CHECKS)
    assert "X-Content-Type-Options" in findings["security-headers-missing"].message
    assert "Strict-Transport-Security" not in findings["security-headers-missing"].message
    assert "uvicorn/" in findings["server-banner"].message


def test_quiet_on_the_secure_demo(demo_doc: Document, secure: str) -> None:
    assert scan_demo(demo_doc, secure, *CHECKS).findings == []
