"""The ``apiward`` command line."""

from __future__ import annotations

import os
import sys
import traceback

import click

from apiward import __version__
from apiward.errors import ApiwardError


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, "-V", "--version", prog_name="apiward")
def cli() -> None:
    """Secure APIs from their OpenAPI document: audit the spec, scan the running API,
    protect it with a gateway.

    \b
    Start with `apiward demo`. Exit codes: 0 clean, 1 findings over the bar,
    2 usage, config or input error, 3 internal error.
    """


def main() -> None:
    """Run the CLI, turning apiward errors into messages and exit codes, never tracebacks."""
    from apiward.cli import commands  # noqa: F401 - registers the subcommands

    try:
        cli.main(standalone_mode=False)
    except click.exceptions.Abort:
        click.echo("aborted", err=True)
        sys.exit(130)
    except click.ClickException as exc:
        exc.show()
        sys.exit(2 if exc.exit_code == 2 else exc.exit_code)
    except ApiwardError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:
        click.echo("interrupted", err=True)
        sys.exit(130)
    except Exception:
        if os.environ.get("APIWARD_DEBUG"):
            traceback.print_exc()
        else:
            click.echo(
                "internal error: apiward hit a bug (run with APIWARD_DEBUG=1 for the "
                "traceback, and please report it)",
                err=True,
            )
        sys.exit(3)
