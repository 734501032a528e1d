"""``auth-failures``: credential stuffing and token guessing, seen as a run of 401/403."""

from __future__ import annotations

from apiward.core import Severity
from apiward.gateway.alert_rules._status_burst import StatusBurst
from apiward.gateway.alerts import alert_rule
from apiward.gateway.auditlog_record import AuditRecord


@alert_rule("auth-failures", severity=Severity.HIGH)
class AuthFailures(StatusBurst):
    """Many authentication or authorization failures from one client.

    Fires when one client IP (``by: ip``, the default) or one identity (``by: identity``;
    anonymous requests still count by IP) receives ``threshold`` 401 or 403 answers within
    ``window`` seconds: someone trying passwords, API keys or tokens, or probing what a
    stolen credential may reach. Other answers cost one comparison.
    """

    statuses = frozenset({401, 403})
    shown = "401/403"
    why = "credential stuffing or token guessing?"

    def __init__(
        self,
        *,
        threshold: int = 20,
        window: float = 60.0,
        by: str = "ip",
        cooldown: float = 300.0,
        max_subjects: int = 10_000,
    ) -> None:
        super().__init__(
            threshold=threshold,
            window=window,
            by=by,
            cooldown=cooldown,
            max_subjects=max_subjects,
        )

    def sample(self, record: AuditRecord) -> str:
        return f"{record.status} {record.operation or record.method + ' ' + record.path}"
