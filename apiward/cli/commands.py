"""Registers every subcommand on the ``apiward`` group."""

from __future__ import annotations
