"""deprecated-operation-served against the demo bank."""

from __future__ import annotations

from apiward.core import Document
from tests.scan.conftest import scan_demo

CHECK = "deprecated-operation-served"


def test_fires_on_the_vulnerable_demo(demo_doc: Document, vulnerable: str) -> None:
    result = scan_demo(demo_doc, vulnerable, CHECK)
    assert [u.key for f in result.findings for u in f.usages] == ["GET /accounts/{id}/balance"]


def test_quiet_on_the_secure_demo(demo_doc: Document, secure: str) -> None:
    assert scan_demo(demo_doc, secure, CHECK).findings == []
