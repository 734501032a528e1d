"""Swagger 2.0 -> OpenAPI 3.0 conversion. Placeholder until implemented."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from apiward.errors import SpecError


def convert(data: dict[str, Any], uri: str) -> tuple[dict[str, Any], Callable[[str], str]]:
    raise SpecError("Swagger 2.0 is not supported yet", file=uri)
