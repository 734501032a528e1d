"""Alert rules on attack-shaped and normal traffic, cooldowns, and the webhook on a real server."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import socket
from collections.abc import Iterator
from typing import Any

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from apiward.core import Severity
from apiward.demo.server import serve_app
from apiward.errors import ConfigError
from apiward.gateway.alerts import (
    ALERT_RULES,
    Alert,
    AlertEngine,
    AlertRule,
    RecentAlerts,
    WebhookSink,
    build_rules,
)
from apiward.gateway.auditlog_record import AuditRecord

T0 = 1_700_000_000_000  # ms


def rec(t: float = 0.0, **kw: Any) -> AuditRecord:
    """A record ``t`` seconds after T0."""
    fields: dict[str, Any] = {
        "request_id": "r",
        "client_ip": "203.0.113.9",
        "method": "GET",
        "path": "/accounts/7",
        "operation": "GET /accounts/{id}",
        "identity": "alice",
        "decision": "allow",
        "status": 200,
        "ts_ms": T0 + round(t * 1000),
    }
    fields.update(kw)
    return AuditRecord(**fields)


def engine(config: dict[str, dict[str, Any]]) -> tuple[AlertEngine, RecentAlerts]:
    sink = RecentAlerts()
    return AlertEngine(build_rules(config), sink), sink


def run(eng: AlertEngine, records: list[AuditRecord], api: str = "bank") -> None:
    for r in records:
        eng.observe(api, r)


# -- the registry and the options ---------------------------------------------------------


def test_built_in_rules_are_registered_with_titles() -> None:
    rules = build_rules()
    names = {r.name for r in rules}
    assert {"auth-failures", "object-walk", "rate-limit-storm", "denial-burst"} <= names
    for cls in ALERT_RULES:
        assert cls.title and not cls.title.endswith(".")
        assert isinstance(cls.severity, Severity)


def test_options_come_from_config_and_bad_ones_are_config_errors() -> None:
    (rule,) = build_rules({"auth-failures": {"threshold": 5, "window": 10, "by": "identity"}})
    assert (rule.threshold, rule.window, rule.name) == (5, 10.0, "auth-failures")
    with pytest.raises(ConfigError, match="unknown alert rule 'auth-failure'"):
        build_rules({"auth-failure": {}})
    with pytest.raises(ConfigError, match="unknown option 'treshold'"):
        build_rules({"object-walk": {"treshold": 3}})
    with pytest.raises(ConfigError, match=r"alerts.object-walk.threshold: must be a whole number"):
        build_rules({"object-walk": {"threshold": 0}})
    with pytest.raises(ConfigError, match="'ip' or 'identity'"):
        build_rules({"rate-limit-storm": {"by": "session"}})
    with pytest.raises(ConfigError, match="ratio"):
        build_rules({"denial-burst": {"ratio": 2}})
    with pytest.raises(ConfigError, match="window"):
        build_rules({"auth-failures": {"window": True}})


# -- auth-failures ------------------------------------------------------------------------


def test_auth_failures_fire_on_credential_stuffing_from_one_ip() -> None:
    eng, sink = engine({"auth-failures": {"threshold": 20, "window": 60}})
    stuffing = [
        rec(
            i * 0.5,
            identity=None,
            status=401,
            method="POST",
            path="/login",
            operation="POST /login",
        )
        for i in range(25)
    ]
    run(eng, stuffing)
    (alert,) = sink.alerts
    assert (alert.rule, alert.subject_kind, alert.subject) == ("auth-failures", "ip", "203.0.113.9")
    assert alert.count == 20 and alert.threshold == 20 and alert.severity is Severity.HIGH
    assert alert.first_seen_ms == T0 and alert.last_seen_ms == T0 + 9500
    assert alert.samples == ("401 POST /login",)
    assert "credential stuffing" in alert.message and alert.api == "bank"


def test_auth_failures_stay_quiet_on_a_few_failures_and_on_slow_ones() -> None:
    eng, sink = engine({"auth-failures": {"threshold": 20, "window": 60}})
    # a user mistyping a password three times, among normal traffic
    normal = [rec(i, status=401 if i < 3 else 200, identity=None) for i in range(100)]
    # 40 failures, but one every 4 s: never 20 within a minute
    slow = [rec(200 + 4 * i, status=403, client_ip="198.51.100.1") for i in range(40)]
    run(eng, normal + slow)
    assert sink.alerts == []


def test_auth_failures_by_identity_counts_one_account_across_ips() -> None:
    eng, sink = engine({"auth-failures": {"threshold": 5, "by": "identity"}})
    run(eng, [rec(i, status=403, client_ip=f"192.0.2.{i}") for i in range(5)])
    (alert,) = sink.alerts
    assert (alert.subject_kind, alert.subject) == ("identity", "alice")


# -- object-walk ------------------------------------------------------------------------


def test_object_walk_fires_on_enumerating_ids() -> None:
    eng, sink = engine({"object-walk": {"threshold": 30, "window": 60}})
    run(eng, [rec(i * 0.2, path=f"/accounts/{1000 + i}", status=404) for i in range(40)])
    (alert,) = sink.alerts
    assert (alert.rule, alert.subject, alert.count) == ("object-walk", "alice", 30)
    assert alert.samples == tuple(f"/accounts/{1025 + i}" for i in range(5))  # the latest
    assert "GET /accounts/{id}" in alert.message and "BOLA" in alert.message


def test_object_walk_is_quiet_on_a_user_reading_their_own_objects() -> None:
    eng, sink = engine({"object-walk": {"threshold": 30, "window": 60}})
    own = [rec(i * 0.1, path=f"/accounts/{[11, 12, 13][i % 3]}") for i in range(600)]
    listing = [rec(70 + i * 0.1, path="/accounts", operation="GET /accounts") for i in range(200)]
    # 24 new objects a minute, for five minutes: always below the threshold
    steady = [rec(100 + i * 2.5, path=f"/accounts/{i}", identity="bob") for i in range(120)]
    run(eng, own + listing + steady)
    assert sink.alerts == []


def test_object_walk_counts_anonymous_clients_by_ip_and_honours_ignore() -> None:
    eng, sink = engine({"object-walk": {"threshold": 10, "ignore": ["GET /avatars/{id}"]}})
    avatars = [rec(i, path=f"/avatars/{i}", operation="GET /avatars/{id}") for i in range(50)]
    anonymous = [rec(i, path=f"/accounts/{i}", identity=None, status=401) for i in range(10)]
    run(eng, avatars + anonymous)
    (alert,) = sink.alerts
    assert (alert.subject_kind, alert.subject) == ("ip", "203.0.113.9")


# -- rate-limit-storm -----------------------------------------------------------------------


def test_rate_limit_storm_fires_on_a_client_ignoring_429() -> None:
    eng, sink = engine({"rate-limit-storm": {"threshold": 50, "window": 60}})
    run(eng, [rec(i * 0.05, status=429, decision="deny", policy="ratelimit") for i in range(60)])
    (alert,) = sink.alerts
    assert (alert.rule, alert.subject, alert.count) == ("rate-limit-storm", "alice", 50)
    assert alert.severity is Severity.MEDIUM


def test_rate_limit_storm_is_quiet_on_a_client_that_backs_off() -> None:
    eng, sink = engine({"rate-limit-storm": {"threshold": 50, "window": 60}})
    # a few 429s, then the client waits for Retry-After
    run(eng, [rec(i * 2, status=429 if i % 10 == 0 else 200) for i in range(300)])
    assert sink.alerts == []


# -- denial-burst ----------------------------------------------------------------------------


def test_denial_burst_fires_when_most_requests_are_denied() -> None:
    eng, sink = engine({"denial-burst": {"threshold": 100, "ratio": 0.5, "window": 60}})
    normal = [rec(i * 0.1) for i in range(100)]
    scan = [
        rec(10 + i * 0.05, decision="deny", status=404, policy="routing", operation=None)
        for i in range(300)
    ]
    run(eng, normal + scan)
    (alert,) = sink.alerts
    assert (alert.rule, alert.subject_kind, alert.subject) == ("denial-burst", "api", "bank")
    assert alert.samples == ("routing",)


def test_denial_burst_is_quiet_on_normal_refusals() -> None:
    eng, sink = engine({"denial-burst": {"threshold": 100, "ratio": 0.5}})
    records = [
        rec(
            i * 0.1, decision="deny" if i % 20 == 0 else "allow", status=401 if i % 20 == 0 else 200
        )
        for i in range(3000)
    ]
    run(eng, records)
    # and a quiet API whose first few requests are all refused
    run(eng, [rec(i, decision="deny", status=401) for i in range(20)], api="quiet")
    assert sink.alerts == []


# -- the engine ---------------------------------------------------------------------------


def test_cooldown_gives_one_alert_per_attack_and_counts_the_rest() -> None:
    eng, sink = engine({"auth-failures": {"threshold": 10, "window": 60, "cooldown": 300}})
    # 10 failures a second for 400 s from one IP, and a short burst from another
    attack = [rec(i * 0.1, status=401, identity=None) for i in range(4000)]
    other = [rec(5 + i * 0.1, status=401, identity=None, client_ip="192.0.2.1") for i in range(10)]
    run(eng, attack[:100] + other + attack[100:])
    alerts = sink.alerts
    assert [(a.subject, a.suppressed) for a in alerts] == [
        ("203.0.113.9", 0),
        ("192.0.2.1", 0),
        ("203.0.113.9", 299),  # the first alert after the cooldown says what it held back
    ]
    assert alerts[2].last_seen_ms == T0 + 300_900
    assert eng.stats.fired == 3 and eng.stats.suppressed == 299 + 99


def test_tracked_subjects_are_bounded_oldest_forgotten_first() -> None:
    eng, sink = engine({"auth-failures": {"threshold": 3, "max_subjects": 10}})
    records = []
    for round_ in range(3):  # 11 IPs taking turns: each is evicted before its next failure
        records += [rec(round_ + i * 0.01, status=401, client_ip=f"192.0.2.{i}") for i in range(11)]
    run(eng, records)
    assert sink.alerts == []
    # ten IPs fit: each reaches three failures
    eng2, sink2 = engine({"auth-failures": {"threshold": 3, "max_subjects": 10}})
    run(eng2, [r for r in records if r.client_ip != "192.0.2.10"])
    assert len(sink2.alerts) == 10


class Broken(AlertRule):
    """A rule with a bug."""

    name = "broken"

    def observe(self, api: str, record: AuditRecord) -> Alert | None:
        raise RuntimeError("bug")


class BrokenSink:
    def send(self, alert: Alert) -> None:
        raise RuntimeError("bug")


def test_a_failing_rule_or_sink_never_reaches_the_request() -> None:
    sink = RecentAlerts()
    rules = [Broken(), *build_rules({"rate-limit-storm": {"threshold": 2}})]
    eng = AlertEngine(rules, [BrokenSink(), sink])
    run(eng, [rec(i, status=429) for i in range(2)])
    assert eng.stats.rule_errors == 2 and eng.stats.sink_errors == 1
    assert len(sink.alerts) == 1  # the other sink still got it


def test_alert_dict_is_json_ready() -> None:
    eng, sink = engine({"rate-limit-storm": {"threshold": 2}})
    run(eng, [rec(i, status=429) for i in range(2)])
    data = json.loads(json.dumps(sink.alerts[0].to_dict()))
    assert data["severity"] == "medium" and data["first_seen"] == "2023-11-14T22:13:20.000+00:00"
    assert data["window_seconds"] == 60.0 and len(data["id"]) == 32


# -- the webhook ---------------------------------------------------------------------------


class Receiver:
    """A webhook receiver on 127.0.0.1: records what arrives; /fail answers 500, /reject 400."""

    def __init__(self) -> None:
        self.received: list[tuple[str, bytes, dict[str, str]]] = []

    async def hook(self, request: Request) -> Response:
        self.received.append((request.url.path, await request.body(), dict(request.headers)))
        answer = {"/fail": 500, "/reject": 400}.get(request.url.path, 204)
        if request.url.path == "/slow":
            await asyncio.sleep(2)
        return Response(status_code=answer)

    def app(self) -> Starlette:
        paths = ["/hook", "/fail", "/reject", "/slow"]
        return Starlette(routes=[Route(p, self.hook, methods=["POST"]) for p in paths])


@pytest.fixture(scope="module")
def receiver() -> Iterator[tuple[Receiver, str]]:
    rx = Receiver()
    with serve_app(rx.app()) as url:
        yield rx, url


def attack() -> list[AuditRecord]:
    return [rec(i, status=429) for i in range(3)]


def test_webhook_delivers_signed_json(receiver: tuple[Receiver, str]) -> None:
    rx, url = receiver
    results: list[tuple[str, str]] = []
    sink = WebhookSink(
        f"{url}/hook",
        headers={"Authorization": "Bearer receiver-token"},
        secret="s3cret",
        on_result=lambda rule, result: results.append((rule, result)),
    )

    async def main() -> None:
        eng = AlertEngine(build_rules({"rate-limit-storm": {"threshold": 3}}), sink)
        await eng.start()
        run(eng, attack())
        await eng.aclose(timeout=10)

    asyncio.run(main())
    (body, headers) = next((b, h) for _, b, h in rx.received if "x-apiward-signature" in h)
    alert = json.loads(body)
    assert (alert["rule"], alert["subject"], alert["count"]) == ("rate-limit-storm", "alice", 3)
    expected = hmac.new(b"s3cret", body, hashlib.sha256).hexdigest()
    assert headers["x-apiward-signature"] == f"sha256={expected}"
    assert headers["authorization"] == "Bearer receiver-token"
    assert headers["content-type"] == "application/json"
    assert results == [("rate-limit-storm", "sent")] and sink.stats.sent == 1


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def deliver(url: str, alerts: int = 1, **kw: Any) -> tuple[WebhookSink, list[str]]:
    results: list[str] = []
    sink = WebhookSink(url, backoff=0.01, on_result=lambda _r, res: results.append(res), **kw)

    async def main() -> None:
        eng = AlertEngine(build_rules({"rate-limit-storm": {"threshold": 3}}), sink)
        await eng.start()
        for n in range(alerts):
            run(eng, attack(), api=f"api{n}")  # one subject per API: no cooldown between them
        await eng.aclose(timeout=10)

    asyncio.run(main())
    return sink, results


def test_receiver_down_is_retried_then_counted_failed() -> None:
    sink, results = deliver(f"http://127.0.0.1:{free_port()}/hook", retries=2)
    assert results == ["failed"]
    assert (sink.stats.failed, sink.stats.retries, sink.stats.sent) == (1, 2, 0)
    assert sink.stats.last_error == "ConnectError"


def test_server_errors_are_retried_and_refusals_are_not(receiver: tuple[Receiver, str]) -> None:
    rx, url = receiver
    sink, results = deliver(f"{url}/fail", retries=2)
    assert results == ["failed"] and sink.stats.last_error == "HTTP 500"
    assert sum(1 for p, _, _ in rx.received if p == "/fail") == 3
    sink, results = deliver(f"{url}/reject", retries=2)
    assert results == ["failed"] and sink.stats.retries == 0
    assert sum(1 for p, _, _ in rx.received if p == "/reject") == 1


def one_alert(api: str = "bank") -> Alert:
    eng, sink = engine({"rate-limit-storm": {"threshold": 3}})
    run(eng, attack(), api=api)
    return sink.alerts[0]


def test_full_queue_drops_and_close_gives_up_at_its_deadline(
    receiver: tuple[Receiver, str],
) -> None:
    _, url = receiver
    sink = WebhookSink(f"{url}/hook", max_queue=2)
    for n in range(5):  # not started yet: two wait, three are dropped at once
        sink.send(one_alert(f"api{n}"))
    assert (sink.pending, sink.stats.dropped) == (2, 3)
    slow = WebhookSink(f"{url}/slow", timeout=10)

    async def main() -> None:
        await sink.start()
        await sink.aclose(timeout=10)
        await slow.start()
        slow.send(one_alert())
        slow.send(one_alert())
        await slow.aclose(timeout=0.2)  # the receiver takes 2 s: give up, drop what is left
        slow.send(one_alert())  # closed: dropped, never raised

    asyncio.run(main())
    assert (sink.stats.sent, sink.stats.dropped) == (2, 3)
    assert (slow.stats.sent, slow.stats.dropped, slow.pending) == (0, 3, 0)


def test_webhook_url_is_checked_and_never_shown() -> None:
    with pytest.raises(ConfigError, match="http:// or https://") as info:
        WebhookSink("ftp://hooks.example/T0K3N")
    assert "T0K3N" not in str(info.value)
    with pytest.raises(ConfigError):
        WebhookSink("/relative/hook")
    sink = WebhookSink("https://user:pw@hooks.example:8443/services/T0K3N", secret="s")
    assert repr(sink) == "WebhookSink('https://hooks.example:8443')"
