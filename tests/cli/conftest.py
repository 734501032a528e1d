"""Running ``apiward`` in-process through its real entry point."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest

from apiward.cli import main


class Result:
    def __init__(self, code: int, out: str, err: str) -> None:
        self.code, self.out, self.err = code, out, err


@pytest.fixture
def cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capfd: pytest.CaptureFixture[str]) -> Any:
    """Run ``apiward ARGS`` in-process through ``main()`` (as the console script does)."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("FORCE_COLOR", raising=False)

    def run(*args: str) -> Result:
        monkeypatch.setattr(sys, "argv", ["apiward", *args])
        code = 0
        try:
            main()
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else 1
        out, err = capfd.readouterr()
        return Result(code, out, err)

    return run
