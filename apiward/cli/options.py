"""Options that `apiward audit` and `apiward scan` share, spelt and explained once."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, TypeVar

import click

from apiward.core import Severity

__all__ = ["baseline_options", "config_option", "output_options", "terminal_options"]

F = TypeVar("F", bound=Callable[..., Any])
SEVERITIES = [s.value for s in Severity]


def _stack(*decorators: Callable[[F], F]) -> Callable[[F], F]:
    def apply(func: F) -> F:
        for decorate in reversed(decorators):
            func = decorate(func)
        return func

    return apply


def config_option(what: str) -> Callable[[F], F]:
    """``-c/--config FILE``; ``what`` says what the file brings to this command."""
    return click.option(
        "-c",
        "--config",
        "config_path",
        type=click.Path(dir_okay=False),
        help=f"Config file{what} [default: ./apiward.yaml if present].",
    )


def output_options(formats: Sequence[str], output_help: str) -> Callable[[F], F]:
    """``-f/--format`` among ``formats`` (text first) and ``-o/--output FILE``."""
    return _stack(
        click.option(
            "-f",
            "--format",
            "fmt",
            type=click.Choice(list(formats)),
            default="text",
            show_default=True,
            help="Report format.",
        ),
        click.option("-o", "--output", type=click.Path(dir_okay=False), help=output_help),
    )


def baseline_options(fail_on_default: str, write_help: str) -> Callable[[F], F]:
    """``--fail-on``, ``--baseline FILE`` and ``--write-baseline FILE``."""
    return _stack(
        click.option(
            "--fail-on",
            type=click.Choice([*SEVERITIES, "none"]),
            help=f"Exit 1 on a finding at or above this severity [default: {fail_on_default}].",
        ),
        click.option(
            "--baseline",
            type=click.Path(dir_okay=False),
            help="Report only findings not in this baseline file.",
        ),
        click.option(
            "--write-baseline",
            type=click.Path(dir_okay=False),
            metavar="FILE",
            help=write_help,
        ),
    )


def terminal_options(unit: str, verbose_help: str) -> Callable[[F], F]:
    """``--limit N`` findings per ``unit``, ``-v/--verbose`` and ``-q/--quiet``."""
    return _stack(
        click.option(
            "--limit",
            type=click.IntRange(min=0),
            default=3,
            show_default=True,
            help=f"Findings detailed per {unit} in text and markdown (0: all).",
        ),
        click.option("-v", "--verbose", is_flag=True, help=verbose_help),
        click.option(
            "-q", "--quiet", is_flag=True, help="No report on the terminal; the exit code says it."
        ),
    )
