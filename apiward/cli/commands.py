"""Registers every subcommand on the ``apiward`` group."""

from __future__ import annotations

from apiward.cli import audit, config, demo, gateway, logs, scan  # noqa: F401 - each module registers its commands
