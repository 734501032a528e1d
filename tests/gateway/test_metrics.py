"""The gateway's Prometheus metrics, read back through prometheus_client's own parser."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from prometheus_client import REGISTRY
from prometheus_client.parser import text_string_to_metric_families

from apiward.gateway.auditlog import AuditLog, SqliteStore
from apiward.gateway.auditlog_record import AuditRecord
from apiward.gateway.metrics import LATENCY_BUCKETS, GatewayMetrics


def rec(**kw: Any) -> AuditRecord:
    fields: dict[str, Any] = {
        "request_id": "r1",
        "client_ip": "10.0.0.1",
        "method": "GET",
        "path": "/accounts/7",
        "operation": "GET /accounts/{id}",
        "decision": "allow",
        "status": 200,
        "latency_us": 830,
        "request_bytes": 0,
        "response_bytes": 96,
    }
    fields.update(kw)
    return AuditRecord(**fields)


def samples(metrics: GatewayMetrics) -> list[tuple[str, dict[str, str], float]]:
    body, content_type = metrics.render()
    assert content_type.startswith("text/plain")
    return [
        (s.name, s.labels, s.value)
        for family in text_string_to_metric_families(body.decode())
        for s in family.samples
    ]


def value(metrics: GatewayMetrics, name: str, **labels: str) -> float | None:
    """The one sample called ``name`` whose labels include ``labels`` (None if absent)."""
    found = [v for n, ls, v in samples(metrics) if n == name and labels.items() <= ls.items()]
    assert len(found) <= 1, found
    return found[0] if found else None


def label_sets(metrics: GatewayMetrics, name: str) -> list[dict[str, str]]:
    return [ls for n, ls, _ in samples(metrics) if n == name]


def test_requests_are_counted_by_operation_status_decision_and_policy() -> None:
    m = GatewayMetrics(process_metrics=False)
    for _ in range(3):
        m.observe("payments", rec())
    m.observe("payments", rec(decision="deny", status=401, policy="jwt", response_bytes=0))
    # an allowed request may name the policy that let it through: not a label value
    m.observe("payments", rec(policy="jwt"))
    m.observe("orders", rec())

    name = "apiward_gateway_requests_total"
    ok = {"api": "payments", "operation": "GET /accounts/{id}", "method": "GET"}
    assert value(m, name, **ok, status="200", decision="allow", policy="") == 4
    assert value(m, name, **ok, status="401", decision="deny", policy="jwt") == 1
    assert value(m, name, api="orders") == 1
    assert len(label_sets(m, name)) == 3


def test_latency_histogram_and_byte_counters() -> None:
    m = GatewayMetrics(process_metrics=False)
    m.observe("a", rec(latency_us=500))  # exactly on a bound: counted in it (le)
    m.observe("a", rec(latency_us=830, request_bytes=40))
    m.observe("a", rec(latency_us=7_000_000))  # beyond the last bound: +Inf only

    op = {"api": "a", "operation": "GET /accounts/{id}"}
    hist = "apiward_gateway_request_duration_seconds"
    assert value(m, f"{hist}_bucket", **op, le="0.0005") == 1
    assert value(m, f"{hist}_bucket", **op, le="0.001") == 2
    assert value(m, f"{hist}_bucket", **op, le="5.0") == 2
    assert value(m, f"{hist}_bucket", **op, le="+Inf") == 3
    assert value(m, f"{hist}_count", **op) == 3
    assert value(m, f"{hist}_sum", **op) == 7.00133
    buckets = [ls["le"] for ls in label_sets(m, f"{hist}_bucket")]
    assert buckets == [*(str(b) for b in LATENCY_BUCKETS), "+Inf"]
    assert value(m, "apiward_gateway_request_bytes_total", **op) == 40
    assert value(m, "apiward_gateway_response_bytes_total", **op) == 3 * 96


def test_unknown_paths_and_methods_keep_label_cardinality_bounded() -> None:
    m = GatewayMetrics(process_metrics=False)
    for i in range(500):  # a scanner: 500 paths no operation matches, odd methods
        method = "GET" if i % 2 else f"X{i}"
        m.observe("a", rec(path=f"/wp-admin/{i}.php", operation=None, method=method, status=404))

    sets = label_sets(m, "apiward_gateway_requests_total")
    assert {(s["operation"], s["method"]) for s in sets} == {
        ("unmatched", "GET"),
        ("unmatched", "OTHER"),
    }
    assert value(m, "apiward_gateway_requests_total", method="OTHER") == 250
    body, _ = m.render()
    assert b"wp-admin" not in body and b"X1" not in body


def test_operations_past_the_cap_collapse_to_other() -> None:
    m = GatewayMetrics(max_operations=2, process_metrics=False)
    for op in ("GET /a", "GET /b", "GET /c", "GET /d", "GET /a"):
        m.observe("api", rec(operation=op))
    ops = sorted(s["operation"] for s in label_sets(m, "apiward_gateway_requests_total"))
    assert ops == ["GET /a", "GET /b", "other"]
    assert value(m, "apiward_gateway_requests_total", operation="other") == 2
    assert value(m, "apiward_gateway_requests_total", operation="GET /a") == 2


def test_each_gateway_has_its_own_registry() -> None:
    one, two = GatewayMetrics(process_metrics=False), GatewayMetrics(process_metrics=False)
    one.observe("a", rec())
    assert value(one, "apiward_gateway_requests_total") == 1
    assert value(two, "apiward_gateway_requests_total") is None
    global_names = {s.name for family in REGISTRY.collect() for s in family.samples}
    assert not any(n.startswith("apiward_gateway") for n in global_names)


def test_upstream_ratelimit_config_and_alert_metrics() -> None:
    m = GatewayMetrics(process_metrics=False)
    target = "http://10.0.0.5:8080"
    m.set_upstream_health("a", target, up=True)
    m.set_upstream_health("a", "http://10.0.0.6:8080", up=False)
    m.observe_upstream("a", target, 0.004)
    m.observe_upstream("a", target, 0.2)
    m.ratelimit_error("a")
    m.ratelimit_error("a")
    m.config_reloaded(ok=True, generation=3)
    m.config_reloaded(ok=False, generation=4)  # a failed reload leaves generation 3 in force
    m.alert_result("auth-failures", "sent")
    m.alert_result("auth-failures", "failed")

    assert value(m, "apiward_gateway_upstream_up", target=target) == 1
    assert value(m, "apiward_gateway_upstream_up", target="http://10.0.0.6:8080") == 0
    up_hist = "apiward_gateway_upstream_duration_seconds"
    assert value(m, f"{up_hist}_count", api="a", target=target) == 2
    assert value(m, f"{up_hist}_bucket", api="a", target=target, le="0.005") == 1
    assert value(m, "apiward_gateway_ratelimit_backend_errors_total", api="a") == 2
    assert value(m, "apiward_gateway_config_reloads_total", result="ok") == 1
    assert value(m, "apiward_gateway_config_reloads_total", result="failed") == 1
    assert value(m, "apiward_gateway_config_generation") == 3
    assert value(m, "apiward_gateway_alerts_total", rule="auth-failures", result="sent") == 1


def test_audit_log_is_read_at_scrape_time(tmp_path: Path) -> None:
    m = GatewayMetrics(process_metrics=False)
    audit = AuditLog(SqliteStore(tmp_path / "audit.db"), tmp_path / "spool", chain="gw-1")
    m.watch_audit_log(audit)
    assert value(m, "apiward_gateway_audit_pending", chain="gw-1") == 0
    audit.log(rec())  # not started: the records wait in the queue
    audit.log(rec())
    assert value(m, "apiward_gateway_audit_pending", chain="gw-1") == 2
    assert value(m, "apiward_gateway_audit_logged_total", chain="gw-1") == 2
    assert value(m, "apiward_gateway_audit_store_failures_total", chain="gw-1") == 0


def test_a_callback_gauge_and_the_process_collector() -> None:
    m = GatewayMetrics()
    depth = [5]
    m.gauge_function("webhook_queue", "alerts waiting", lambda: depth[0])
    assert value(m, "apiward_gateway_webhook_queue") == 5
    depth[0] = 1
    assert value(m, "apiward_gateway_webhook_queue") == 1
    assert value(m, "process_cpu_seconds_total") is not None


def test_slow_clients_cut_off_are_counted_by_phase() -> None:
    m = GatewayMetrics(process_metrics=False)
    for phase in ("header", "header", "body"):
        m.client_timeout(phase)
    assert value(m, "apiward_gateway_client_timeouts_total", phase="header") == 2
    assert value(m, "apiward_gateway_client_timeouts_total", phase="body") == 1
