"""Upstream targets: which of them take traffic (passive and active health), and their counters.

:class:`~apiward.gateway.upstream.UpstreamProxy` owns one :class:`Target` per server and
picks among those :meth:`Target.available` says may take a request. Two signals decide:

* passive: a connection that could not be made (refused, connect timeout, TLS handshake)
  takes the target out for ``fail_timeout`` seconds (:meth:`Target.connect_failed`);
* active: when :attr:`HealthCheck.path` is set, :func:`run_checks` GETs it on every target
  each ``interval``; ``unhealthy_threshold`` failures in a row take the target out,
  ``healthy_threshold`` passes in a row bring it back. A pass also ends a passive time-out:
  the target has just been reached.

Targets start healthy, so traffic flows before the first check has answered.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta

from pyreqwest.client import Client

from apiward.errors import ConfigError

__all__ = ["HealthCheck", "Target", "check_once", "run_checks"]


@dataclass(frozen=True, slots=True)
class HealthCheck:
    """How targets are watched. ``path=None``: passive only (connection failures)."""

    path: str | None = None
    interval: float = 5.0  # seconds between two rounds of checks
    timeout: float = 2.0  # a check that takes longer fails
    unhealthy_threshold: int = 3  # failures in a row that take a target out
    healthy_threshold: int = 2  # passes in a row that bring it back
    fail_timeout: float = 10.0  # how long a target that refused a connection sits out

    def __post_init__(self) -> None:
        if self.path is not None and not self.path.startswith("/"):
            raise ConfigError(f"health check path {self.path!r} must start with '/'", key="path")
        for key in ("interval", "timeout"):
            if not getattr(self, key) > 0:
                raise ConfigError("must be a positive number of seconds", key=key)
        if self.fail_timeout < 0:
            raise ConfigError("must not be negative", key="fail_timeout")
        for key in ("unhealthy_threshold", "healthy_threshold"):
            if getattr(self, key) < 1:
                raise ConfigError("must be at least 1", key=key)


class Target:
    """One upstream server: where it is, whether it takes traffic, what happened to it.

    Counters (read them for metrics): ``requests`` attempts sent to it, ``failures``
    attempts that got no usable answer (connection error, timeout, broken response) or a
    502/503/504, ``retries`` attempts that were a retry of an earlier one.
    """

    __slots__ = (
        "_fails",
        "_passes",
        "base",
        "checked_up",
        "client",
        "down_until",
        "failures",
        "requests",
        "retries",
        "url",
    )

    def __init__(self, url: str, base: str, client: Client) -> None:
        self.url = url  # as configured: the name in health(), metrics and the audit record
        self.base = base  # scheme://host:port[/prefix], the request's path is appended
        self.client = client
        self.checked_up = True  # the active check's verdict
        self.down_until = 0.0  # monotonic time a passive time-out ends
        self.requests = 0
        self.failures = 0
        self.retries = 0
        self._passes = 0
        self._fails = 0

    def __repr__(self) -> str:
        return f"<Target {self.url} up={self.checked_up}>"

    def available(self, now: float) -> bool:
        """Whether the target may take a request at monotonic time ``now``."""
        return self.checked_up and now >= self.down_until

    def connect_failed(self, now: float, fail_timeout: float) -> None:
        """A connection could not be made: sit out ``fail_timeout`` seconds."""
        self.down_until = now + fail_timeout

    def record_check(self, ok: bool, health: HealthCheck) -> None:
        """Count one active check; flip the verdict when a threshold is reached."""
        if ok:
            self._fails = 0
            self._passes += 1
            self.down_until = 0.0
            if not self.checked_up and self._passes >= health.healthy_threshold:
                self.checked_up = True
        else:
            self._passes = 0
            self._fails += 1
            if self.checked_up and self._fails >= health.unhealthy_threshold:
                self.checked_up = False

    def counters(self) -> dict[str, int]:
        """``requests``, ``failures`` and ``retries`` so far."""
        return {"requests": self.requests, "failures": self.failures, "retries": self.retries}


async def check_once(target: Target, health: HealthCheck) -> bool:
    """GET the health path on ``target`` and record the verdict: 2xx and 3xx pass."""
    assert health.path is not None
    try:
        request = (
            target.client.request("GET", target.base + health.path)
            .header("user-agent", "apiward-health-check")
            .timeout(timedelta(seconds=health.timeout))
            .build()
        )
        response = await request.send()
        ok = 200 <= response.status < 400
    except Exception:  # any error is a failed check, and the loop must go on
        ok = False
    target.record_check(ok, health)
    return ok


async def run_checks(targets: Sequence[Target], health: HealthCheck) -> None:
    """Check every target now, then every ``interval`` seconds, until cancelled."""
    while True:
        await asyncio.gather(*(check_once(t, health) for t in targets))
        await asyncio.sleep(health.interval)
