"""``rate-limit-storm``: one client hammering past its rate limit."""

from __future__ import annotations

from apiward.core import Severity
from apiward.gateway.alert_rules._status_burst import StatusBurst
from apiward.gateway.alerts import alert_rule


@alert_rule("rate-limit-storm", severity=Severity.MEDIUM)
class RateLimitStorm(StatusBurst):
    """One client keeps sending after being rate limited.

    Fires when one identity (or the client IP of anonymous requests; ``by: ip`` counts by
    IP only) receives ``threshold`` 429 answers within ``window`` seconds: a scraper, a
    brute force held back by the limiter, or a client stuck in a retry loop.
    """

    statuses = frozenset({429})
    shown = "429"
    why = "the client keeps going past its rate limit"

    def __init__(
        self,
        *,
        threshold: int = 50,
        window: float = 60.0,
        by: str = "identity",
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
