"""``${NAME}`` in config values: secrets stay in the environment, not in the file.

Expanded when a tool starts (not when the file is read), so that ``apiward config
check`` works without the secrets and an error names the key that needs one.
"""

from __future__ import annotations

import os
import re
from typing import Any

from apiward.errors import ConfigError

__all__ = ["expand"]

_ENV = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")


def expand(value: Any, where: str) -> Any:
    """``${NAME}`` in strings replaced by environment variables; a missing one is an error."""
    if isinstance(value, str):

        def sub(match: re.Match[str]) -> str:
            name = match.group(1)
            if name not in os.environ:
                raise ConfigError(f"environment variable {name} is not set", key=where)
            return os.environ[name]

        return _ENV.sub(sub, value)
    if isinstance(value, dict):
        return {k: expand(v, f"{where}.{k}") for k, v in value.items()}
    if isinstance(value, list):
        return [expand(v, f"{where}[{i}]") for i, v in enumerate(value)]
    return value
