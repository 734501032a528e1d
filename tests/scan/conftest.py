"""Scans of real servers on 127.0.0.1: the demo bank in both modes, and small apps."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from apiward.config import load_config
from apiward.core import Document, load
from apiward.demo import Settings, demo_file, serve
from apiward.scan import ScanOptions, ScanResult, scan

DEMO_SPEC = demo_file("openapi.yaml")
DEMO_CONFIG = demo_file("scan.yaml")


@pytest.fixture(scope="session")
def demo_doc() -> Document:
    return load(DEMO_SPEC)


def demo_options(url: str, *checks: str, **overrides: Any) -> ScanOptions:
    section = load_config(DEMO_CONFIG).scan
    return ScanOptions.from_section(section, url, select=tuple(checks), **overrides)


def scan_demo(doc: Document, url: str, *checks: str, **overrides: Any) -> ScanResult:
    """Scan a demo instance with only ``checks`` (all when none are named)."""
    result = scan(doc, demo_options(url, *checks, **overrides))
    assert not result.errors, result.errors
    return result


@pytest.fixture
def vulnerable() -> Iterator[str]:
    """A fresh vulnerable demo bank (checks change its data)."""
    with serve(False, settings=Settings()) as url:
        yield url


@pytest.fixture
def secure() -> Iterator[str]:
    """A fresh secure demo bank."""
    with serve(True, settings=Settings()) as url:
        yield url


def rule_ids(result: ScanResult) -> set[str]:
    return {f.rule_id for f in result.findings}
