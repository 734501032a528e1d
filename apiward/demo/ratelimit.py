"""A sliding-window counter: the secure mode's anti-automation on login, signup and transfers."""

from __future__ import annotations

import time
from collections import deque


class Window:
    """At most ``limit`` hits per ``seconds`` for each key."""

    def __init__(self, limit: int, seconds: float) -> None:
        self.limit = limit
        self.seconds = seconds
        self._hits: dict[str, deque[float]] = {}

    def hit(self, key: str) -> bool:
        """Count one hit; False when the key is over its limit (the hit is not counted)."""
        now = time.monotonic()
        hits = self._hits.setdefault(key, deque())
        while hits and hits[0] <= now - self.seconds:
            hits.popleft()
        if len(hits) >= self.limit:
            return False
        hits.append(now)
        return True

    def retry_after(self, key: str) -> int:
        """Whole seconds until the key's oldest hit leaves the window."""
        hits = self._hits.get(key)
        if not hits:
            return 0
        return max(1, round(hits[0] + self.seconds - time.monotonic()))

    def clear(self) -> None:
        self._hits.clear()
