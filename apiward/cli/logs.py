"""``apiward logs``: work with the gateway's audit log (``verify`` its hash chain)."""

from __future__ import annotations

import sys

import click

from apiward.cli import cli
from apiward.errors import InputError
from apiward.gateway.auditlog import AuditLogError, verify_postgres, verify_sqlite


@cli.group("logs")
def logs_group() -> None:
    """The gateway's audit log."""


@logs_group.command("verify")
@click.argument("database", metavar="DATABASE")
@click.option("--table", default="audit_log", show_default=True, help="The audit table.")
def verify_command(database: str, table: str) -> None:
    """Check that no audit record was edited, deleted or reordered.

    DATABASE is a SQLite file (the default store) or a PostgreSQL URL
    (postgresql://...). Every chain (one per gateway process) is checked.

    \b
    Examples:
      apiward logs verify apiward-audit.db
      apiward logs verify postgresql://127.0.0.1/test?user=postgres

    Exit codes: 0 every chain verifies, 1 tampering found, 2 no such log.
    """
    try:
        if database.startswith(("postgres://", "postgresql://")):
            result = verify_postgres(database, table=table)
        else:
            result = verify_sqlite(database, table=table)
    except AuditLogError as exc:
        # a missing file, table or server is the user's input, not a bug (exit 2)
        raise InputError(str(exc)) from None
    click.echo(result.message)
    sys.exit(0 if result.ok else 1)
