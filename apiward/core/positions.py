"""JSON pointer -> (line, column) for JSON and YAML text.

Placeholder: returns None until the position index is implemented.
"""

from __future__ import annotations


class PositionIndex:
    def __init__(self, text: str, fmt: str) -> None:
        self.text = text
        self.format = fmt

    def position(self, pointer: str) -> tuple[int, int] | None:
        return None
