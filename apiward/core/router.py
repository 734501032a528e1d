"""Concrete request -> spec operation. Placeholder interface until implemented."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from apiward.core.model import Operation


@dataclass(frozen=True, slots=True)
class Match:
    operation: Operation
    path_params: dict[str, str]


class Router:
    """Matches ``(method, path)`` to an operation; concrete segments win over templated ones."""

    def __init__(self, operations: Iterable[Operation]) -> None:
        self._ops = list(operations)

    def match(self, method: str, path: str) -> Match | None:
        raise NotImplementedError

    def allowed_methods(self, path: str) -> set[str]:
        raise NotImplementedError
