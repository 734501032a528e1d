"""The gateway's Prometheus metrics, in a registry of their own.

How the gateway uses it::

    metrics = GatewayMetrics()                    # one per gateway; never the global registry
    metrics.observe("payments", record)           # once per request, with its AuditRecord
    metrics.set_upstream_health("payments", "http://10.0.0.5:8080", up=True)
    metrics.observe_upstream("payments", "http://10.0.0.5:8080", 0.0042)
    metrics.watch_audit_log(audit)                # read at scrape time, costs nothing per request
    metrics.config_reloaded(ok=True, generation=7)
    body, content_type = metrics.render()         # the admin API's GET /metrics

Every series is named ``apiward_gateway_*``. The per-request series (requests, duration,
bytes) are plain integers in one cached cell per label set, turned into metric families only
when scraped: :meth:`observe` costs about 1 µs, where four pre-bound prometheus_client
children (a lock each) measured 5.6 µs. Call :meth:`observe` and :meth:`render` from the
event loop's thread; the other setters are rare and go through prometheus_client as usual.

Label values stay bounded: ``operation`` is the spec's template key (``GET /accounts/{id}``),
``unmatched`` for a request no operation matched, and ``other`` past ``max_operations``
distinct keys of one API; an unknown method is ``OTHER``; ``policy`` is ``""`` on allowed
requests. A raw path is never a label.
"""

from __future__ import annotations

import itertools
from bisect import bisect_left
from collections.abc import Callable, Iterable
from typing import Protocol

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    ProcessCollector,
    generate_latest,
)
from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    Metric,
)

from apiward.gateway.auditlog_record import AuditRecord

__all__ = ["LATENCY_BUCKETS", "AuditLogView", "AuditStatsView", "GatewayMetrics"]

# seconds; a gateway's own work is sub-millisecond, its upstreams up to seconds
LATENCY_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)
UNMATCHED = "unmatched"
OTHER = "other"
_MAX_CACHED = 100_000
_METHODS = frozenset(("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "TRACE"))
_AUDIT_COUNTERS = (
    ("logged", "records accepted by the audit log"),
    ("written", "audit rows committed to the store"),
    ("overflowed", "audit records spilled to the overflow spool (queue full)"),
    ("spooled", "audit rows spooled to disk because the store failed"),
    ("store_failures", "failed audit store writes"),
    ("spool_failures", "failed audit spool writes"),
)

_BOUNDS_US = tuple(round(b * 1_000_000) for b in LATENCY_BUCKETS)
_LE = [*(str(b) for b in LATENCY_BUCKETS), "+Inf"]
# a row: one slot per bucket (the last is +Inf), then the latency sum (µs) and byte counts
_SUM, _REQ_BYTES, _RESP_BYTES = len(_BOUNDS_US) + 1, len(_BOUNDS_US) + 2, len(_BOUNDS_US) + 3
_ROW_LEN = len(_BOUNDS_US) + 4
_REQUEST_LABELS = ["api", "operation", "method", "status", "decision", "policy"]
_OP_LABELS = ["api", "operation"]


class AuditStatsView(Protocol):
    """The counters of :class:`~apiward.gateway.auditlog.AuditStats` read at scrape time."""

    logged: int
    written: int
    overflowed: int
    spooled: int
    store_failures: int
    spool_failures: int


class AuditLogView(Protocol):
    """What :meth:`GatewayMetrics.watch_audit_log` reads (an :class:`~.auditlog.AuditLog`)."""

    @property
    def chain(self) -> str: ...

    @property
    def pending(self) -> int: ...

    @property
    def stats(self) -> AuditStatsView: ...


class _RequestCollector:
    """The per-request series as plain integers: one counter cell per label set, one
    row per ``(api, operation)`` of histogram buckets (µs), latency sum and byte counts."""

    def __init__(self) -> None:
        self.counts: dict[tuple[str, ...], list[int]] = {}
        self.rows: dict[tuple[str, str], list[int]] = {}

    def cell(self, labels: tuple[str, ...]) -> tuple[list[int], list[int]]:
        count = self.counts.setdefault(labels, [0])
        row = self.rows.setdefault((labels[0], labels[1]), [0] * _ROW_LEN)
        return count, row

    def collect(self) -> Iterable[Metric]:
        requests = CounterMetricFamily(
            "apiward_gateway_requests",
            "requests answered, by operation, status, decision and denying policy",
            labels=_REQUEST_LABELS,
        )
        for labels, count in list(self.counts.items()):
            requests.add_metric(labels, count[0])
        latency = HistogramMetricFamily(
            "apiward_gateway_request_duration_seconds",
            "time from the request's arrival to its answer, upstream included",
            labels=["api", "operation"],
        )
        sent = CounterMetricFamily(
            "apiward_gateway_request_bytes", "request body bytes received", labels=_OP_LABELS
        )
        received = CounterMetricFamily(
            "apiward_gateway_response_bytes", "response body bytes sent", labels=_OP_LABELS
        )
        for labels, row in list(self.rows.items()):
            cumulative = list(itertools.accumulate(row[: len(_BOUNDS_US) + 1]))
            buckets = [(_LE[i], float(n)) for i, n in enumerate(cumulative)]
            latency.add_metric(labels, buckets, sum_value=row[_SUM] / 1_000_000)
            sent.add_metric(labels, row[_REQ_BYTES])
            received.add_metric(labels, row[_RESP_BYTES])
        yield from (requests, latency, sent, received)


class _AuditCollector:
    """Reads the watched audit logs when Prometheus scrapes, never per request."""

    def __init__(self) -> None:
        self.logs: dict[str, AuditLogView] = {}

    def collect(self) -> Iterable[Metric]:
        pending = GaugeMetricFamily(
            "apiward_gateway_audit_pending",
            "audit records not yet in the store (queued, spooled or stuck)",
            labels=["chain"],
        )
        counters = {
            name: CounterMetricFamily(f"apiward_gateway_audit_{name}", doc, labels=["chain"])
            for name, doc in _AUDIT_COUNTERS
        }
        for chain, audit in self.logs.items():
            pending.add_metric([chain], audit.pending)
            for name, family in counters.items():
                family.add_metric([chain], getattr(audit.stats, name))
        yield pending
        yield from counters.values()


class GatewayMetrics:
    """All of one gateway's metrics; :meth:`render` is the scrape body."""

    def __init__(self, *, max_operations: int = 2000, process_metrics: bool = True) -> None:
        self.registry = CollectorRegistry()
        self.max_operations = max_operations
        reg = self.registry
        self._requests = _RequestCollector()
        reg.register(self._requests)
        self.upstream_up = Gauge(
            "apiward_gateway_upstream_up",
            "1 when the upstream target passes its health check, else 0",
            ["api", "target"],
            registry=reg,
        )
        self.upstream_latency = Histogram(
            "apiward_gateway_upstream_duration_seconds",
            "time the upstream took to answer",
            ["api", "target"],
            buckets=LATENCY_BUCKETS,
            registry=reg,
        )
        self.ratelimit_errors = Counter(
            "apiward_gateway_ratelimit_backend_errors",
            "rate-limit backend calls that failed (the request was answered by the fail policy)",
            ["api"],
            registry=reg,
        )
        self.config_reloads = Counter(
            "apiward_gateway_config_reloads",
            "configuration reloads, by result (ok or failed)",
            ["result"],
            registry=reg,
        )
        self.config_generation = Gauge(
            "apiward_gateway_config_generation",
            "generation number of the configuration in force",
            registry=reg,
        )
        self.alerts = Counter(
            "apiward_gateway_alerts",
            "alerts by rule and delivery result (sent, failed, dropped)",
            ["rule", "result"],
            registry=reg,
        )
        self.client_timeouts = Counter(
            "apiward_gateway_client_timeouts",
            "connections closed because the client was too slow (header: 408; body: closed)",
            ["phase"],
            registry=reg,
        )
        self._audit = _AuditCollector()
        reg.register(self._audit)
        if process_metrics:
            ProcessCollector(registry=reg)
        self._cells: dict[tuple[object, ...], tuple[list[int], list[int]]] = {}
        self._operations: dict[str, set[str]] = {}
        self._upstream: dict[tuple[str, str], Histogram] = {}

    # -- per request -------------------------------------------------------------------

    def observe(self, api: str, record: AuditRecord) -> None:
        """Count one answered request (about 1 µs: one dict lookup, a few integer adds)."""
        key = (api, record.operation, record.method, record.status, record.decision, record.policy)
        cell = self._cells.get(key)
        if cell is None:
            cell = self._bind(key, api, record)
        count, per_op = cell
        count[0] += 1
        latency = record.latency_us
        per_op[bisect_left(_BOUNDS_US, latency)] += 1
        per_op[_SUM] += latency
        per_op[_REQ_BYTES] += record.request_bytes
        per_op[_RESP_BYTES] += record.response_bytes

    def _bind(
        self, key: tuple[object, ...], api: str, record: AuditRecord
    ) -> tuple[list[int], list[int]]:
        op = self._operation_label(api, record.operation)
        method = record.method if record.method in _METHODS else "OTHER"
        status = str(record.status) if 100 <= record.status <= 599 else OTHER
        policy = (record.policy or "") if record.decision == "deny" else ""
        cell = self._requests.cell((api, op, method, status, record.decision, policy))
        # the key holds raw values: cache only label sets that are bounded already, so a
        # flood of odd methods or operations still counts, just without a cache entry each
        if op != OTHER and method != "OTHER" and len(self._cells) < _MAX_CACHED:
            self._cells[key] = cell
        return cell

    def _operation_label(self, api: str, operation: object) -> str:
        if not isinstance(operation, str):
            return UNMATCHED
        seen = self._operations.setdefault(api, set())
        if operation in seen:
            return operation
        if len(seen) >= self.max_operations:
            return OTHER
        seen.add(operation)
        return operation

    # -- upstreams -----------------------------------------------------------------------

    def set_upstream_health(self, api: str, target: str, up: bool) -> None:
        """Record the latest health check result of one upstream target."""
        self.upstream_up.labels(api, target).set(1 if up else 0)

    def observe_upstream(self, api: str, target: str, seconds: float) -> None:
        """Record how long one upstream call took (cached child: per-request cost)."""
        child = self._upstream.get((api, target))
        if child is None:
            child = self._upstream[(api, target)] = self.upstream_latency.labels(api, target)
        child.observe(seconds)

    # -- the rest of the gateway ---------------------------------------------------------

    def ratelimit_error(self, api: str) -> None:
        """Count one failed call to the rate-limit backend."""
        self.ratelimit_errors.labels(api).inc()

    def client_timeout(self, phase: str) -> None:
        """Count one slow client cut off (``header`` or ``body``): Slowloris shows here.

        Its signature fits :func:`~apiward.gateway.protocol.guarded`'s ``on_timeout``.
        """
        self.client_timeouts.labels(phase).inc()

    def watch_audit_log(self, audit: AuditLogView) -> None:
        """Export an audit log's pending count and counters (read at each scrape)."""
        self._audit.logs[audit.chain] = audit

    def config_reloaded(self, ok: bool, generation: int | None = None) -> None:
        """Count one reload; ``generation`` is the config now in force (set when ``ok``)."""
        self.config_reloads.labels("ok" if ok else "failed").inc()
        if ok and generation is not None:
            self.config_generation.set(generation)

    def alert_result(self, rule: str, result: str) -> None:
        """Count one alert's delivery outcome (``sent``, ``failed`` or ``dropped``).

        Its signature fits :class:`~apiward.gateway.alerts.WebhookSink`'s ``on_result``.
        """
        self.alerts.labels(rule, result).inc()

    def gauge_function(self, name: str, documentation: str, func: Callable[[], float]) -> None:
        """Add an ``apiward_gateway_<name>`` gauge whose value ``func`` returns at scrape time."""
        Gauge(f"apiward_gateway_{name}", documentation, registry=self.registry).set_function(func)

    # -- exposition ------------------------------------------------------------------------

    def render(self) -> tuple[bytes, str]:
        """The scrape body in the Prometheus text format, and its content type."""
        return generate_latest(self.registry), CONTENT_TYPE_LATEST
