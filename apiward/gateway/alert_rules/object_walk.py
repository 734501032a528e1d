"""``object-walk``: enumerating object ids through one operation (a BOLA attempt)."""

from __future__ import annotations

from collections.abc import Iterable

from apiward.core import Severity
from apiward.gateway.alert_rules._windows import Distinct, Subjects, check_by, subject_of
from apiward.gateway.alerts import Alert, AlertRule, alert_rule
from apiward.gateway.auditlog_record import AuditRecord


@alert_rule("object-walk", severity=Severity.HIGH)
class ObjectWalk(AlertRule):
    """One client walking through many objects of one operation.

    Counts the distinct concrete paths one identity (or the client IP of anonymous
    requests) requests of one operation with path parameters (``GET /accounts/{id}``)
    within ``window`` seconds, and fires at ``threshold``: enumerating object ids is how
    broken object level authorization (BOLA) is found and exploited. Paths are counted,
    not requests, so a user reading their own few objects over and over stays quiet.
    Operations listed in ``ignore`` (by key) are never counted.
    """

    def __init__(
        self,
        *,
        threshold: int = 30,
        window: float = 60.0,
        by: str = "identity",
        ignore: Iterable[str] = (),
        cooldown: float = 300.0,
        max_subjects: int = 10_000,
    ) -> None:
        super().__init__(threshold=threshold, window=window, cooldown=cooldown)
        self.by = check_by(type(self), by)
        self.ignore = frozenset(ignore)
        self._subjects = Subjects(self.positive_int("max_subjects", max_subjects), Distinct)

    def observe(self, api: str, record: AuditRecord) -> Alert | None:
        operation = record.operation
        if operation is None or "{" not in operation or operation in self.ignore:
            return None
        kind, subject = subject_of(record, self.by)
        key = (api, operation, kind, subject)
        paths = self._subjects.get(key)
        count = paths.add(record.ts_ms, record.path, self.window_ms)
        if count < self.threshold:
            return None
        self._subjects.pop(key)
        return self.alert(
            api,
            kind,
            subject,
            count,
            paths.first_ms,
            record.ts_ms,
            paths.samples,
            f"{kind} {subject} requested {count} different objects of {operation} within "
            f"{self.window:g}s on API {api}: enumerating object ids (BOLA)?",
        )
