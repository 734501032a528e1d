"""Field checks for request bodies. The vulnerable mode checks types only, never sizes."""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation
from typing import Any

from apiward.demo.http import ApiError

USERNAME = re.compile(r"[a-z0-9_]{3,32}")
EMAIL = re.compile(r"[^@\s]{1,64}@[^@\s]{1,190}")
MIN_PASSWORD = 12


def text(
    data: dict[str, Any],
    name: str,
    *,
    secure: bool,
    max_len: int,
    pattern: re.Pattern[str] | None = None,
    default: str | None = None,
) -> str:
    """``data[name]`` as a string; bounded and pattern-checked in secure mode."""
    value = data.get(name, default)
    if not isinstance(value, str) or (secure and not value and default is None):
        raise ApiError(400, f"{name} is required and must be a string")
    if secure and len(value) > max_len:
        raise ApiError(400, f"{name} is longer than {max_len} characters")
    if secure and pattern is not None and not pattern.fullmatch(value):
        raise ApiError(400, f"{name} has an invalid format")
    return value


def password(data: dict[str, Any], name: str, *, secure: bool) -> str:
    value = text(data, name, secure=secure, max_len=128)
    if secure and len(value) < MIN_PASSWORD:
        raise ApiError(400, f"{name} must have at least {MIN_PASSWORD} characters")
    return value


def integer(data: dict[str, Any], name: str) -> int:
    value = data.get(name)
    if not isinstance(value, int) or isinstance(value, bool):
        raise ApiError(400, f"{name} must be an integer")
    return value


def amount(data: dict[str, Any], name: str) -> Decimal:
    """A positive money amount with at most two decimals (both modes)."""
    value = data.get(name)
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise ApiError(400, f"{name} must be a number")
    try:
        result = Decimal(str(value))
    except InvalidOperation:
        raise ApiError(400, f"{name} must be a number") from None
    if not result.is_finite() or result <= 0 or result != round(result, 2):
        raise ApiError(400, f"{name} must be positive with at most two decimals")
    return result
