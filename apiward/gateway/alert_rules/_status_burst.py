"""The shape two rules share: ``threshold`` answers of some statuses for one subject."""

from __future__ import annotations

from typing import ClassVar

from apiward.gateway.alert_rules._windows import Counts, Subjects, check_by, subject_of
from apiward.gateway.alerts import Alert, AlertRule
from apiward.gateway.auditlog_record import AuditRecord


class StatusBurst(AlertRule):
    """Counts answers whose status is in ``statuses`` per subject (IP or identity) in a
    sliding window; subclasses set the statuses, a sample line and the alert's words."""

    statuses: ClassVar[frozenset[int]] = frozenset()
    shown: ClassVar[str] = ""  # how the statuses read in the message, e.g. "401/403"
    why: ClassVar[str] = ""  # the message's closing guess at the cause

    def __init__(
        self, *, threshold: int, window: float, by: str, cooldown: float, max_subjects: int
    ) -> None:
        super().__init__(threshold=threshold, window=window, cooldown=cooldown)
        self.by = check_by(type(self), by)
        self._subjects = Subjects(self.positive_int("max_subjects", max_subjects), Counts)

    def sample(self, record: AuditRecord) -> str:
        return record.operation or f"{record.method} {record.path}"

    def observe(self, api: str, record: AuditRecord) -> Alert | None:
        if record.status not in self.statuses:
            return None
        kind, subject = subject_of(record, self.by)
        key = (api, kind, subject)
        events = self._subjects.get(key)
        count = events.add(record.ts_ms, self.window_ms)
        events.note(self.sample(record))
        if count < self.threshold:
            return None
        self._subjects.pop(key)
        return self.alert(
            api,
            kind,
            subject,
            count,
            events.first_ms,
            record.ts_ms,
            events.samples,
            f"{count} requests answered {self.shown} within {self.window:g}s for {kind} "
            f"{subject} on API {api}: {self.why}",
        )
