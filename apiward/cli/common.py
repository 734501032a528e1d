"""What the commands share: where output goes, colours and width, baselines, id lists."""

from __future__ import annotations

import os
import shutil
import sys

from apiward.core.baseline import Baseline
from apiward.errors import UsageError
from apiward.report import ReportOptions

__all__ = ["emit", "load_baseline", "report_options", "split_ids"]


def report_options(
    fmt: str, output: str | None, quiet: bool, limit: int, verbose: bool
) -> ReportOptions:
    """Rendering options: colour only for the text format on a terminal that wants it."""
    to_terminal = output is None and not quiet
    color = to_terminal and fmt == "text" and _color()
    return ReportOptions(limit=limit, verbose=verbose, color=color, width=_width())


def load_baseline(path: str | None, write_to: str | None) -> Baseline | None:
    if path is None:
        return None
    same = write_to is not None and os.path.abspath(path) == os.path.abspath(write_to)
    if same and not os.path.exists(path):
        return None  # writing the first baseline
    return Baseline.load(path)


def split_ids(values: tuple[str, ...]) -> list[str]:
    return [part.strip() for v in values for part in v.split(",") if part.strip()]


def emit(text: str, output: str | None) -> None:
    # backslashreplace: a lone surrogate from a JSON spec must not crash the write
    if output is None:
        stream = sys.stdout
        buffer = getattr(stream, "buffer", None)
        if buffer is not None:
            stream.flush()
            buffer.write(text.encode("utf-8", "backslashreplace"))
            buffer.flush()
        else:
            stream.write(text)
        return
    try:
        with open(output, "w", encoding="utf-8", errors="backslashreplace") as fh:
            fh.write(text)
    except OSError as exc:
        raise UsageError(f"cannot write {output}: {exc.strerror or exc}") from None


def _color() -> bool:
    if os.environ.get("NO_COLOR"):
        return False
    if os.environ.get("FORCE_COLOR"):
        return True
    return sys.stdout.isatty()


def _width() -> int:
    if sys.stdout.isatty():
        return shutil.get_terminal_size((100, 24)).columns
    try:
        return max(60, int(os.environ.get("COLUMNS", "100")))
    except ValueError:
        return 100
