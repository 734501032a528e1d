"""The built-in alert rules: one module each, registered on import.

Adding a rule is adding a module here: every module of this package not starting
with ``_`` is imported by :func:`load_all`, and its ``@alert_rule`` registers it.
"""

from __future__ import annotations

import importlib
import pkgutil

__all__ = ["load_all"]


def load_all() -> None:
    for info in pkgutil.iter_modules(__path__):
        if not info.name.startswith("_"):
            importlib.import_module(f"{__name__}.{info.name}")


load_all()
