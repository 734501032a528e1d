"""``apiward config``: the config file's JSON Schema, and a check of a config file."""

from __future__ import annotations

import json

import click

from apiward.audit import RULES
from apiward.cli import cli
from apiward.config import DEFAULT_CONFIG_FILE, find_config, json_schema, load_config
from apiward.errors import UsageError


@cli.group("config")
def config_group() -> None:
    """The apiward.yaml config file (docs/config.md)."""


@config_group.command("schema")
def schema_command() -> None:
    """Print the JSON Schema of apiward.yaml (for editors: docs/apiward.schema.json)."""
    click.echo(schema_text(), nl=False)


@config_group.command("check")
@click.argument("file", required=False, type=click.Path(dir_okay=False))
def check_command(file: str | None) -> None:
    """Validate a config file [default: ./apiward.yaml]; exit 2 with the first problem."""
    path = file or find_config()
    if path is None:
        raise UsageError(f"no {DEFAULT_CONFIG_FILE} here; name the file to check")
    load_config(path, known={"audit rule": RULES.names()})
    click.echo(f"{path}: ok")


def schema_text() -> str:
    """The schema as shipped: two-space indent, keys in model order, final newline."""
    return json.dumps(json_schema(), indent=2) + "\n"
