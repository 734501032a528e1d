"""``denial-burst``: a large share of one API's requests suddenly refused."""

from __future__ import annotations

from apiward.core import Severity
from apiward.errors import ConfigError
from apiward.gateway.alert_rules._windows import Ratio
from apiward.gateway.alerts import Alert, AlertRule, alert_rule
from apiward.gateway.auditlog_record import AuditRecord

_SLOTS = 10  # the window is counted in this many buckets: O(1) per record, 1/10 resolution


@alert_rule("denial-burst", severity=Severity.MEDIUM)
class DenialBurst(AlertRule):
    """A large share of an API's requests denied by the gateway.

    Fires when at least ``ratio`` of an API's requests within ``window`` seconds were
    denied, once at least ``threshold`` requests were seen (so a quiet API does not fire
    on its first few refusals): a scanner or an attack under way, or a broken client
    release or gateway configuration. The samples name the policies that denied.
    """

    def __init__(
        self,
        *,
        threshold: int = 200,
        window: float = 60.0,
        ratio: float = 0.5,
        cooldown: float = 300.0,
    ) -> None:
        super().__init__(threshold=threshold, window=window, cooldown=cooldown)
        self.ratio = self.positive_number("ratio", ratio)
        if self.ratio > 1:
            raise ConfigError(f"must be a share in (0, 1], got {ratio!r}", key=self._key("ratio"))
        self.bucket_ms = max(1, self.window_ms // _SLOTS)
        self._apis: dict[str, Ratio] = {}  # the configured APIs: no eviction needed

    def observe(self, api: str, record: AuditRecord) -> Alert | None:
        state = self._apis.get(api)
        if state is None:
            state = self._apis[api] = Ratio(_SLOTS)
        denied = record.decision == "deny"
        state.add(record.ts_ms, self.bucket_ms, denied)
        if denied:
            state.note(record.policy or "deny")
        if state.total < self.threshold or state.hit < self.ratio * state.total:
            return None
        del self._apis[api]
        share = state.hit / state.total
        return self.alert(
            api,
            "api",
            api,
            state.hit,
            state.first_ms(self.bucket_ms),
            record.ts_ms,
            state.samples,
            f"{state.hit} of {state.total} requests ({share:.0%}) to API {api} were denied "
            f"within {self.window:g}s",
        )
