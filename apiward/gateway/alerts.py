"""Alerts on attack-shaped traffic, read from the audit records, delivered off the hot path.

How the gateway uses it::

    sink = WebhookSink("https://hooks.example/apiward", secret=key, on_result=metrics.alert_result)
    engine = AlertEngine(build_rules({"auth-failures": {"threshold": 10}}), [sink, RecentAlerts()])
    await engine.start()                  # starts the sinks' background tasks
    engine.observe("payments", record)    # once per request, on the event loop: sync, a few µs
    await engine.aclose()                 # flushes what the sinks hold, within a deadline

A rule is one class with one job, registered by name with :func:`alert_rule`; the first
line of its docstring is its title. Its keyword arguments are its options, so
:func:`build_rules` turns the config's ``{name: {option: value}}`` into instances.
The built-in rules live in :mod:`apiward.gateway.alert_rules`, one module each.

:meth:`AlertEngine.observe` feeds each record to each rule; a rule returns an
:class:`Alert` when a subject (an IP, an identity, an API) crosses its threshold within
its sliding window, then starts counting that subject afresh. The engine keeps one
cooldown per ``(rule, api, subject)``: one attack gives one alert per ``cooldown``
seconds, and the next alert says how many were suppressed meanwhile. A sink's
:meth:`~AlertSink.send` must only queue; :class:`WebhookSink` delivers from its own task.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import inspect
import json
import logging
import math
import uuid
from collections import OrderedDict, deque
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any, ClassVar, Literal, Protocol, TypeVar, runtime_checkable
from urllib.parse import urlsplit

import httpx

from apiward import __version__
from apiward.core import Registry, Severity
from apiward.errors import ConfigError
from apiward.gateway.auditlog_record import AuditRecord

__all__ = [
    "ALERT_RULES",
    "Alert",
    "AlertEngine",
    "AlertRule",
    "AlertSink",
    "EngineStats",
    "RecentAlerts",
    "SubjectKind",
    "WebhookSink",
    "WebhookStats",
    "alert_rule",
    "build_rules",
]

log = logging.getLogger("apiward.gateway.alerts")

SubjectKind = Literal["ip", "identity", "api"]


def _iso(ts_ms: int) -> str:
    return datetime.fromtimestamp(ts_ms / 1000, UTC).isoformat(timespec="milliseconds")


@dataclass(frozen=True, slots=True, kw_only=True)
class Alert:
    """One rule crossing its threshold for one subject. Holds no secret (records hold none).

    ``samples`` are a few of the paths or operations involved; ``suppressed`` counts the
    alerts of the same rule and subject that the cooldown held back before this one.
    ``id`` lets a receiver ignore a delivery it already has (webhooks are retried).
    """

    rule: str
    title: str
    severity: Severity
    api: str
    subject: str
    subject_kind: SubjectKind
    count: int
    threshold: int
    window: float
    first_seen_ms: int
    last_seen_ms: int
    samples: tuple[str, ...]
    message: str
    suppressed: int = 0
    id: str = field(default_factory=lambda: uuid.uuid4().hex)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: the webhook body and the admin API's view."""
        return {
            "id": self.id,
            "rule": self.rule,
            "title": self.title,
            "severity": self.severity.value,
            "api": self.api,
            "subject": self.subject,
            "subject_kind": self.subject_kind,
            "count": self.count,
            "threshold": self.threshold,
            "window_seconds": self.window,
            "first_seen": _iso(self.first_seen_ms),
            "last_seen": _iso(self.last_seen_ms),
            "first_seen_ms": self.first_seen_ms,
            "last_seen_ms": self.last_seen_ms,
            "samples": list(self.samples),
            "message": self.message,
            "suppressed": self.suppressed,
        }


class AlertRule:
    """Base class of alert rules. Subclasses take their options as keyword arguments
    (with defaults) and implement :meth:`observe`; :func:`alert_rule` names them."""

    name: ClassVar[str] = ""
    title: ClassVar[str] = ""
    severity: ClassVar[Severity] = Severity.MEDIUM

    def __init__(
        self, *, threshold: int = 10, window: float = 60.0, cooldown: float = 300.0
    ) -> None:
        self.threshold = self.positive_int("threshold", threshold)
        self.window = self.positive_number("window", window)
        self.cooldown = self.positive_number("cooldown", cooldown, zero_ok=True)
        self.window_ms = max(1, round(self.window * 1000))

    def observe(self, api: str, record: AuditRecord) -> Alert | None:
        """Account for one record; an :class:`Alert` when a subject crosses the threshold."""
        raise NotImplementedError

    def alert(
        self,
        api: str,
        kind: SubjectKind,
        subject: str,
        count: int,
        first_ms: int,
        last_ms: int,
        samples: Iterable[str],
        message: str,
    ) -> Alert:
        return Alert(
            rule=self.name,
            title=self.title,
            severity=self.severity,
            api=api,
            subject=subject,
            subject_kind=kind,
            count=count,
            threshold=self.threshold,
            window=self.window,
            first_seen_ms=first_ms,
            last_seen_ms=last_ms,
            samples=tuple(samples),
            message=message,
        )

    @classmethod
    def positive_int(cls, option: str, value: object) -> int:
        if not isinstance(value, int) or isinstance(value, bool) or value < 1:
            raise ConfigError(f"must be a whole number >= 1, got {value!r}", key=cls._key(option))
        return value

    @classmethod
    def positive_number(cls, option: str, value: object, *, zero_ok: bool = False) -> float:
        if (
            isinstance(value, bool)
            or not isinstance(value, int | float)
            or not math.isfinite(value)
            or not (value >= 0 if zero_ok else value > 0)
        ):
            bound = ">= 0" if zero_ok else "> 0"
            raise ConfigError(f"must be a number {bound}, got {value!r}", key=cls._key(option))
        return float(value)

    @classmethod
    def _key(cls, option: str) -> str:
        return f"alerts.{cls.name or cls.__name__}.{option}"


R = TypeVar("R", bound=type[AlertRule])

ALERT_RULES: Registry[type[AlertRule]] = Registry("alert rule")


def alert_rule(name: str, *, severity: Severity) -> Callable[[R], R]:
    """Register the decorated :class:`AlertRule` subclass as the rule ``name``."""

    def decorate(cls: R) -> R:
        if not cls.__doc__:  # its own: a class does not inherit __doc__
            raise TypeError(f"alert rule {name} needs a docstring: its first line is the title")
        cls.name = name
        cls.title = inspect.cleandoc(cls.__doc__).partition("\n")[0].strip().rstrip(".")
        cls.severity = severity
        ALERT_RULES.register(name, cls)
        return cls

    return decorate


def build_rules(config: Mapping[str, Mapping[str, Any] | None] | None = None) -> list[AlertRule]:
    """Rule instances from ``{name: {option: value}}`` (``{}`` or ``None``: the defaults);
    ``config=None`` gives every registered rule with its defaults. Unknown names and
    options, and bad values, raise :class:`ConfigError` naming the key."""
    from apiward.gateway import alert_rules  # noqa: F401 - registers the built-in rules

    if config is None:
        return [cls() for cls in ALERT_RULES]
    rules = []
    for name, options in config.items():
        if name not in ALERT_RULES:
            known = ", ".join(ALERT_RULES.names())
            raise ConfigError(f"unknown alert rule {name!r} (known: {known})", key="alerts")
        cls = ALERT_RULES.get(name)
        options = {} if options is None else options
        if not isinstance(options, Mapping):
            raise ConfigError("must be a mapping of options", key=f"alerts.{name}")
        accepted = [p for p in inspect.signature(cls).parameters if p != "self"]
        for option in options:
            if option not in accepted:
                raise ConfigError(
                    f"unknown option {option!r} (options: {', '.join(accepted)})",
                    key=f"alerts.{name}",
                )
        rules.append(cls(**options))
    return rules


class AlertSink(Protocol):
    """Where alerts go. ``send`` runs on the request path: queue and return, never wait."""

    def send(self, alert: Alert) -> None: ...


@runtime_checkable
class _Managed(Protocol):
    async def start(self) -> None: ...

    async def aclose(self, timeout: float = ...) -> None: ...


class RecentAlerts:
    """The last ``maxlen`` alerts in memory, newest last (for the admin API and tests)."""

    def __init__(self, maxlen: int = 100) -> None:
        self._alerts: deque[Alert] = deque(maxlen=maxlen)

    def send(self, alert: Alert) -> None:
        self._alerts.append(alert)

    @property
    def alerts(self) -> list[Alert]:
        return list(self._alerts)


@dataclass
class EngineStats:
    """Counters for metrics; read them, do not write them."""

    fired: int = 0  # alerts handed to the sinks
    suppressed: int = 0  # alerts held back by a cooldown
    rule_errors: int = 0  # exceptions raised by a rule (the request is never affected)
    sink_errors: int = 0  # exceptions raised by a sink's send()


class AlertEngine:
    """Feeds records to the rules, applies cooldowns, hands alerts to the sinks."""

    def __init__(
        self,
        rules: Iterable[AlertRule],
        sink: AlertSink | Sequence[AlertSink] = (),
        *,
        max_cooldowns: int = 10_000,
    ) -> None:
        self.rules = tuple(rules)
        self.sinks: tuple[AlertSink, ...] = tuple(sink) if isinstance(sink, Sequence) else (sink,)
        self.max_cooldowns = max_cooldowns
        self.stats = EngineStats()
        # (rule, api, kind, subject) -> [end of cooldown in ms, alerts suppressed since]
        self._cooldowns: OrderedDict[tuple[str, ...], list[int]] = OrderedDict()
        self._failed_rules: set[str] = set()

    def observe(self, api: str, record: AuditRecord) -> None:
        """Account for one answered request. Never raises: alerting must not fail a request."""
        for rule in self.rules:
            try:
                alert = rule.observe(api, record)
            except Exception:  # a rule's bug costs its alert, never the request
                self.stats.rule_errors += 1
                if rule.name not in self._failed_rules:  # once: it may fail on every request
                    self._failed_rules.add(rule.name)
                    log.exception("alert rule %s failed (counted from now on)", rule.name)
                continue
            if alert is not None:
                self._fire(rule, alert)

    def _fire(self, rule: AlertRule, alert: Alert) -> None:
        key = (alert.rule, alert.api, alert.subject_kind, alert.subject)
        state = self._cooldowns.get(key)
        if state is not None and alert.last_seen_ms < state[0]:
            state[1] += 1
            self.stats.suppressed += 1
            return
        suppressed = state[1] if state is not None else 0
        self._cooldowns[key] = [alert.last_seen_ms + round(rule.cooldown * 1000), 0]
        self._cooldowns.move_to_end(key)
        if len(self._cooldowns) > self.max_cooldowns:
            self._cooldowns.popitem(last=False)
        if suppressed:
            alert = replace(alert, suppressed=suppressed)
        self.stats.fired += 1
        for sink in self.sinks:
            try:
                sink.send(alert)
            except Exception:
                self.stats.sink_errors += 1
                log.exception("alert sink %r failed to take an alert", sink)

    async def start(self) -> None:
        """Start the sinks that run a background task (e.g. :class:`WebhookSink`)."""
        for sink in self.sinks:
            if isinstance(sink, _Managed):
                await sink.start()

    async def aclose(self, timeout: float = 10.0) -> None:
        """Flush and stop those sinks, each within ``timeout`` seconds; never raises for them."""
        for sink in self.sinks:
            if isinstance(sink, _Managed):
                try:
                    await sink.aclose(timeout)
                except Exception:
                    log.exception("alert sink %r did not close cleanly", sink)


# -- the webhook ---------------------------------------------------------------------------


@dataclass
class WebhookStats:
    """Counters for metrics; read them, do not write them."""

    sent: int = 0
    failed: int = 0  # gave up after the retries, or refused by the receiver (4xx)
    dropped: int = 0  # queue full, or still queued when aclose's deadline passed
    retries: int = 0
    last_error: str | None = None


class WebhookSink:
    """POSTs each alert to ``url`` as one JSON object (:meth:`Alert.to_dict`), from a
    background task, so :meth:`send` only appends to a bounded queue.

    One alert per POST keeps receivers simple (the cooldowns keep the volume low).
    With ``secret``, ``X-Apiward-Signature: sha256=<hex HMAC-SHA256 of the raw body>``
    lets the receiver check the sender; the body's ``id`` lets it drop a retried
    duplicate. A connection error, a timeout, a 5xx, 408 or 429 is retried ``retries``
    times with exponential backoff from ``backoff`` seconds; another 4xx is final.
    ``on_result(rule, result)`` hears ``sent``, ``failed`` or ``dropped`` for each alert
    (:meth:`GatewayMetrics.alert_result <apiward.gateway.metrics.GatewayMetrics.alert_result>`
    fits). Redirects are not followed and proxies in the environment are not used.
    ``send`` must be called on the event loop's thread.
    """

    def __init__(
        self,
        url: str,
        *,
        headers: Mapping[str, str] | None = None,
        secret: str | bytes | None = None,
        timeout: float = 5.0,
        max_queue: int = 1000,
        retries: int = 3,
        backoff: float = 0.5,
        max_backoff: float = 30.0,
        on_result: Callable[[str, str], None] | None = None,
    ) -> None:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            # the URL itself stays out of the message: webhook URLs often embed a token
            raise ConfigError("must be an absolute http:// or https:// URL", key="alerts.webhook")
        if max_queue < 1 or retries < 0 or timeout <= 0 or backoff < 0:
            raise ConfigError(
                "max_queue must be >= 1, retries >= 0, timeout > 0 and backoff >= 0",
                key="alerts.webhook",
            )
        self.url = url
        self.safe_url = f"{parts.scheme}://{parts.netloc.rpartition('@')[2]}"
        self.timeout = timeout
        self.max_queue = max_queue
        self.retries = retries
        self.backoff = backoff
        self.max_backoff = max_backoff
        self.on_result = on_result
        self.stats = WebhookStats()
        self._headers = {
            **{name.lower(): value for name, value in (headers or {}).items()},
            "content-type": "application/json",
            "user-agent": f"apiward/{__version__}",
        }
        self._secret = secret.encode() if isinstance(secret, str) else secret
        self._queue: deque[Alert] = deque()
        self._wake = asyncio.Event()
        self._idle = asyncio.Event()
        self._idle.set()
        self._task: asyncio.Task[None] | None = None
        self._client: httpx.AsyncClient | None = None
        self._closed = False

    def __repr__(self) -> str:
        return f"WebhookSink({self.safe_url!r})"  # never the path, headers or secret

    def send(self, alert: Alert) -> None:
        """Queue ``alert`` (never blocks; dropped and counted when the queue is full)."""
        if self._closed or len(self._queue) >= self.max_queue:
            self.stats.dropped += 1
            self._report(alert, "dropped")
            return
        self._queue.append(alert)
        self._idle.clear()
        self._wake.set()

    @property
    def pending(self) -> int:
        """Alerts queued, the one being delivered included."""
        return len(self._queue)

    async def start(self) -> None:
        """Start delivering (alerts sent before this wait in the queue)."""
        if self._task is not None or self._closed:
            return
        self._client = httpx.AsyncClient(
            timeout=self.timeout, follow_redirects=False, trust_env=False
        )
        self._task = asyncio.create_task(self._run(), name="apiward-alert-webhook")

    async def aclose(self, timeout: float = 10.0) -> None:
        """Deliver what is queued within ``timeout`` seconds, then stop; the rest is dropped."""
        self._closed = True
        if self._task is not None:
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(timeout):
                    await self._idle.wait()
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        while self._queue:
            self.stats.dropped += 1
            self._report(self._queue.popleft(), "dropped")
        self._idle.set()
        if self._client is not None:
            await self._client.aclose()
            self._client = None

    async def _run(self) -> None:
        while True:
            if not self._queue:
                self._idle.set()
                self._wake.clear()
                await self._wake.wait()
                continue
            # the alert stays queued while in flight: if aclose cancels this task meanwhile,
            # it finds the alert there and counts it as dropped
            alert = self._queue[0]
            try:
                await self._deliver(alert)
            except Exception as e:  # never let one alert stop the deliveries after it
                self._failed(alert, type(e).__name__)
            self._queue.popleft()

    async def _deliver(self, alert: Alert) -> None:
        assert self._client is not None
        body = json.dumps(alert.to_dict(), separators=(",", ":"), sort_keys=True).encode()
        headers = self._headers
        if self._secret is not None:
            digest = hmac.new(self._secret, body, hashlib.sha256).hexdigest()
            headers = {**headers, "x-apiward-signature": f"sha256={digest}"}
        delay = self.backoff
        error = ""
        for attempt in range(self.retries + 1):
            if attempt:
                self.stats.retries += 1
                await asyncio.sleep(delay)
                delay = min(delay * 2, self.max_backoff)
            try:
                # the body of the answer is never read: only its status matters
                async with self._client.stream(
                    "POST", self.url, content=body, headers=headers
                ) as r:
                    status = r.status_code
            except httpx.HTTPError as e:
                error = type(e).__name__  # its text may hold the URL, which may hold a token
                continue
            if 200 <= status < 300:
                self.stats.sent += 1
                self._report(alert, "sent")
                return
            error = f"HTTP {status}"
            if status < 500 and status not in (408, 429):
                break  # the receiver refuses this alert: sending it again will not help
        self._failed(alert, error)

    def _failed(self, alert: Alert, error: str) -> None:
        self.stats.failed += 1
        self.stats.last_error = error
        log.warning("alert %s (%s) not delivered to %s: %s", alert.id, alert.rule, self, error)
        self._report(alert, "failed")

    def _report(self, alert: Alert, result: str) -> None:
        if self.on_result is not None:
            try:
                self.on_result(alert.rule, result)
            except Exception:
                log.exception("alert on_result callback failed")
