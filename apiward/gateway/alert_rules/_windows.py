"""Sliding windows and a bounded subject table: the state alert rules keep, O(1) amortised.

Time is the record's own ``ts_ms``, so a rule answers the same for the same records,
whatever the wall clock (and tests need no sleeping). Memory is bounded twice over: a rule
tracks at most ``max_subjects`` subjects (the least recently active is forgotten first),
and a window holds at most ``threshold`` events, because the rule resets a subject's
window when it fires.
"""

from __future__ import annotations

from collections import OrderedDict, deque
from collections.abc import Callable, Hashable
from typing import TYPE_CHECKING, Generic, TypeVar

from apiward.errors import ConfigError
from apiward.gateway.auditlog_record import AuditRecord

if TYPE_CHECKING:
    from apiward.gateway.alerts import AlertRule, SubjectKind

__all__ = [
    "SAMPLES",
    "Counts",
    "Distinct",
    "Ratio",
    "Subjects",
    "check_by",
    "sample",
    "subject_of",
]

SAMPLES = 5  # paths or operations an alert shows
_SAMPLE_LEN = 160

S = TypeVar("S")


def sample(text: str) -> str:
    """``text`` cut to a length an alert can carry (paths may be 2 KiB)."""
    return text if len(text) <= _SAMPLE_LEN else text[: _SAMPLE_LEN - 1] + "…"


class Subjects(Generic[S]):
    """At most ``limit`` subjects' state; the least recently active one is evicted first."""

    def __init__(self, limit: int, factory: Callable[[], S]) -> None:
        self.limit = limit
        self._factory = factory
        self._items: OrderedDict[Hashable, S] = OrderedDict()

    def get(self, key: Hashable) -> S:
        items = self._items
        state = items.get(key)
        if state is None:
            state = items[key] = self._factory()
            if len(items) > self.limit:
                items.popitem(last=False)
        else:
            items.move_to_end(key)
        return state

    def pop(self, key: Hashable) -> None:
        self._items.pop(key, None)

    def __len__(self) -> int:
        return len(self._items)


class _Samples:
    __slots__ = ("samples",)

    def __init__(self) -> None:
        self.samples: deque[str] = deque(maxlen=SAMPLES)

    def note(self, label: str) -> None:
        if label not in self.samples:
            self.samples.append(sample(label))


class Counts(_Samples):
    """Events in the last ``window_ms``: their times, oldest first."""

    __slots__ = ("times",)

    def __init__(self) -> None:
        super().__init__()
        self.times: deque[int] = deque()

    def add(self, ts_ms: int, window_ms: int) -> int:
        """Count one event at ``ts_ms``; returns the events within the window ending there."""
        times = self.times
        times.append(ts_ms)
        horizon = ts_ms - window_ms
        while times[0] <= horizon:
            times.popleft()
        return len(times)

    @property
    def first_ms(self) -> int:
        return self.times[0]


class Distinct(_Samples):
    """Distinct values seen in the last ``window_ms``, each with the time it was last seen.

    Values are kept by hash, not text, so a window of long hostile paths stays small;
    a collision between two paths only ever undercounts by one.
    """

    __slots__ = ("seen",)

    def __init__(self) -> None:
        super().__init__()
        self.seen: OrderedDict[int, int] = OrderedDict()  # hash -> last seen, oldest first

    def add(self, ts_ms: int, value: str, window_ms: int) -> int:
        """Note ``value`` at ``ts_ms``; returns the distinct values within the window."""
        seen = self.seen
        key = hash(value)
        if key in seen:
            seen.move_to_end(key)
        else:
            self.note(value)
        seen[key] = ts_ms
        horizon = ts_ms - window_ms
        while next(iter(seen.values())) <= horizon:
            seen.popitem(last=False)
        return len(seen)

    @property
    def first_ms(self) -> int:
        return next(iter(self.seen.values()))


class Ratio(_Samples):
    """Totals and hits over the last ``slots`` buckets of ``bucket_ms`` (a ring: O(1))."""

    __slots__ = ("current", "hit", "hits", "total", "totals")

    def __init__(self, slots: int = 10) -> None:
        super().__init__()
        self.totals = [0] * slots
        self.hits = [0] * slots
        self.total = 0
        self.hit = 0
        self.current = 0  # the bucket number (ts_ms // bucket_ms) of the newest slot

    def add(self, ts_ms: int, bucket_ms: int, hit: bool) -> None:
        bucket = ts_ms // bucket_ms
        slots = len(self.totals)
        if bucket > self.current:
            # clear the slots that fell out of the window (all of them after a long pause)
            for step in range(1, min(bucket - self.current, slots) + 1):
                slot = (self.current + step) % slots
                self.total -= self.totals[slot]
                self.hit -= self.hits[slot]
                self.totals[slot] = self.hits[slot] = 0
            self.current = bucket
        # a record older than the newest bucket (out of order) counts in the newest one
        slot = self.current % slots
        self.totals[slot] += 1
        self.total += 1
        if hit:
            self.hits[slot] += 1
            self.hit += 1

    def first_ms(self, bucket_ms: int) -> int:
        return (self.current - len(self.totals) + 1) * bucket_ms


def subject_of(record: AuditRecord, by: str) -> tuple[SubjectKind, str]:
    """Who a record is about: its identity when ``by`` is ``identity`` and it has one,
    else its client IP."""
    if by == "identity" and record.identity:
        return "identity", record.identity
    return "ip", record.client_ip


def check_by(cls: type[AlertRule], by: object) -> str:
    if by not in ("ip", "identity"):
        raise ConfigError(f"must be 'ip' or 'identity', got {by!r}", key=cls._key("by"))
    return str(by)
