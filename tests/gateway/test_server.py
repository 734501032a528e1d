"""`apiward gateway` as a real process in front of the demo bank: proxying, admin API, reload,
API keys and a graceful stop that leaves a verified audit log."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from apiward.demo import Settings, create_app, demo_file, serve_app
from apiward.gateway.auditlog import verify_sqlite
from tests.gateway.policies.conftest import KEY, bearer

PEPPER = "pepper-" + "p" * 40
ADMIN = "admin-token-for-tests"


def config_text(upstream: str, tmp: Path, *, extra_limit: str = "") -> str:
    return f"""
gateway:
  listen: 127.0.0.1:0
  admin: {{listen: "127.0.0.1:0", token: "${{TEST_ADMIN_TOKEN}}"}}
  audit: {{store: "sqlite:{tmp / "audit.db"}", spool-dir: "{tmp / "spool"}", flush-interval: 50ms}}
  keys: {{file: "{tmp / "keys.json"}", pepper: "${{TEST_KEY_PEPPER}}"}}
  logs: {{access-log: true}}
  client-header-timeout: 1s
  apis:
    - name: bank
      spec: {demo_file("openapi.yaml")}
      upstream: {{targets: ["{upstream}"]}}
      auth:
        api-keys-in-query: true
        jwt:
          bearerAuth:
            keys: [{{secret: "{KEY.decode()}", algorithms: [HS256]}}]
            issuer: apiward-demo
            roles-claim: role
      rate-limits:
        - {{requests: 1000, per: 1m}}{extra_limit}
"""


@dataclass
class Running:
    proc: subprocess.Popen[bytes]
    url: str
    admin: str
    config: Path
    log: Path


def start_gateway(
    config: Path, log: Path, env: dict[str, str] | None = None
) -> subprocess.Popen[bytes]:
    """``apiward gateway --config config`` as a process, its JSON log (stderr) into ``log``."""
    with log.open("wb") as sink:
        return subprocess.Popen(
            [sys.executable, "-m", "apiward", "gateway", "--config", str(config)],
            stderr=sink,
            stdout=subprocess.DEVNULL,
            env=dict(os.environ) if env is None else env,
        )


def _wait_listening(proc: subprocess.Popen[bytes], log: Path) -> tuple[str, str]:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and proc.poll() is None:
        for line in log.read_text().splitlines():
            if '"listening"' in line:
                event = json.loads(line)
                return "http://" + event["traffic"], "http://" + event["admin"]
        time.sleep(0.05)
    raise AssertionError("the gateway did not start:\n" + log.read_text())


@pytest.fixture
def gateway(tmp_path: Path) -> Iterator[Running]:
    upstream_app = create_app(False, settings=Settings(jwt_secret=KEY))
    with serve_app(upstream_app) as upstream:
        config = tmp_path / "apiward.yaml"
        config.write_text(config_text(upstream, tmp_path))
        env = {**os.environ, "TEST_ADMIN_TOKEN": ADMIN, "TEST_KEY_PEPPER": PEPPER}
        log = tmp_path / "gateway.log"
        proc = start_gateway(config, log, env)
        try:
            url, admin = _wait_listening(proc, log)
            yield Running(proc, url, admin, config, log)
        finally:
            if proc.poll() is None:
                proc.kill()
            proc.wait(10)


def _admin(token: str = ADMIN) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _stop(run: Running) -> str:
    run.proc.send_signal(signal.SIGTERM)
    run.proc.wait(30)
    return run.log.read_text()


def test_proxies_enforces_and_stops_cleanly_with_every_request_audited(
    gateway: Running, tmp_path: Path
) -> None:
    ok = httpx.get(gateway.url + "/users/me", headers=bearer())
    assert ok.status_code == 200
    assert ok.json()["username"] == "alice"
    assert ok.json()["password_hash"] == "****"  # response filtering is on by default
    assert ok.headers["x-content-type-options"] == "nosniff"
    assert "server" not in ok.headers
    assert httpx.get(gateway.url + "/users/me").status_code == 401
    assert httpx.get(gateway.url + "/debug", headers=bearer()).status_code == 404
    assert httpx.delete(gateway.url + "/accounts/3", headers=bearer()).status_code == 405
    output = _stop(gateway)
    assert gateway.proc.returncode == 0
    assert '"gateway_stopped"' in output
    result = verify_sqlite(tmp_path / "audit.db")
    assert result.ok, result.message
    assert "4 records" in result.message
    access = [json.loads(line) for line in output.splitlines() if '"request_id"' in line]
    assert [a["status"] for a in access] == [200, 401, 404, 405]


def test_the_admin_api_is_protected_and_serves_metrics(gateway: Running) -> None:
    assert httpx.get(gateway.admin + "/healthz").json()["status"] == "ok"
    assert httpx.get(gateway.admin + "/metrics").status_code == 401
    assert httpx.get(gateway.admin + "/metrics", headers=_admin("wrong")).status_code == 401
    assert httpx.post(gateway.admin + "/reload").status_code == 401
    httpx.get(gateway.url + "/users/me")
    httpx.get(gateway.url + "/users/me", headers=bearer())
    metrics = httpx.get(gateway.admin + "/metrics", headers=_admin()).text
    assert 'policy="authentication"' in metrics
    assert 'apiward_gateway_upstream_up{api="bank",target="http://127.0.0.1:' in metrics
    assert "apiward_gateway_upstream_duration_seconds_count" in metrics
    assert httpx.get(gateway.admin + "/readyz").json()["ready"] is True


def test_reload_applies_a_good_config_and_keeps_the_old_one_on_a_bad_one(
    gateway: Running, tmp_path: Path
) -> None:
    good = gateway.config.read_text()
    limited = good + "        - {requests: 1, per: 1m, operations: getProfile, by: user}\n"
    gateway.config.write_text(limited)
    answer = httpx.post(gateway.admin + "/reload", headers=_admin())
    assert answer.status_code == 200, answer.text
    codes = [httpx.get(gateway.url + "/users/me", headers=bearer()).status_code for _ in range(2)]
    assert codes == [200, 429]
    gateway.config.write_text(limited.replace("requests: 1,", "requests: zero,"))
    answer = httpx.post(gateway.admin + "/reload", headers=_admin())
    assert answer.status_code == 409
    assert "requests" in answer.json()["message"]
    # SIGHUP with the same bad file: still serving with the last good config
    gateway.proc.send_signal(signal.SIGHUP)
    assert httpx.get(gateway.url + "/users/me", headers=bearer()).status_code == 429
    assert httpx.get(gateway.url + "/accounts", headers=bearer()).status_code == 200


def test_api_keys_are_created_used_and_revoked_through_the_admin_api(gateway: Running) -> None:
    sync = "/partner/merchants/sync"
    created = httpx.post(
        gateway.admin + "/keys", headers=_admin(), json={"name": "partner-a", "scopes": []}
    )
    assert created.status_code == 201, created.text
    key, key_id = created.json()["key"], created.json()["id"]
    assert "hash" not in created.json()
    stored = (gateway.config.parent / "keys.json").read_text()
    assert key not in stored and key_id in stored
    # the demo's spec puts this key in the query string (its own planted flaw)
    partner = {"api_key": key}
    answer = httpx.post(gateway.url + sync, params=partner, json={})
    # the gateway let it through: the answer is the demo's own (it checks keys of its own),
    # not a gateway refusal, which always names a reason
    assert "reason" not in answer.json(), answer.text
    listed = httpx.get(gateway.admin + "/keys", headers=_admin()).json()["keys"]
    assert [k["id"] for k in listed] == [key_id]
    # on the shared list only (as another gateway would have put it): refused here too
    body = {"kind": "key", "id": key_id}
    assert httpx.post(gateway.admin + "/revocations", headers=_admin(), json=body).is_success
    listed_only = httpx.post(gateway.url + sync, params=partner, json={})
    assert (listed_only.status_code, listed_only.json()["reason"]) == (401, "key_revoked")
    back = httpx.delete(gateway.admin + f"/revocations/key/{key_id}", headers=_admin())
    assert back.status_code == 200
    assert "reason" not in httpx.post(gateway.url + sync, params=partner, json={}).json()
    assert httpx.delete(gateway.admin + f"/keys/{key_id}", headers=_admin()).status_code == 200
    revoked = httpx.post(gateway.url + sync, params=partner, json={})
    assert revoked.status_code == 401
    assert revoked.json()["reason"]
    # and on the shared revocation list (a file next to the config here: no Redis)
    listed = httpx.get(gateway.admin + "/revocations", headers=_admin()).json()
    assert [(e["kind"], e["id"]) for e in listed["revocations"]] == [("key", key_id)]
    assert listed["store"] == f"file:{gateway.config.parent / '.apiward-revocations.json'}"


def test_a_slow_client_is_cut_off_and_counted(gateway: Running) -> None:
    import socket

    host, port = gateway.url.removeprefix("http://").rsplit(":", 1)
    with socket.create_connection((host, int(port)), timeout=15) as conn:
        conn.sendall(b"GET /accounts HTTP/1.1\r\nHost: t\r\n")  # the rest never comes
        answer = b""
        while chunk := conn.recv(4096):
            answer += chunk
    assert answer.startswith(b"HTTP/1.1 408")
    metrics = httpx.get(gateway.admin + "/metrics", headers=_admin()).text
    assert 'apiward_gateway_client_timeouts_total{phase="header"} 1.0' in metrics


def test_revocations_through_the_admin_api(gateway: Running) -> None:
    leaked = bearer(jti="leaked-1")
    assert httpx.get(gateway.url + "/accounts", headers=leaked).status_code == 200
    for body in (
        {"kind": "token", "id": "x", "until": 10**400},
        {"kind": "token", "id": "x", "until": 5},
        {"kind": "user", "id": "x"},
        {"kind": "token"},
        [1],
        {"kind": "token", "id": "x", "until": "soon"},
    ):
        answer = httpx.post(gateway.admin + "/revocations", headers=_admin(), json=body)
        assert answer.status_code == 400 and answer.json()["error"] == "bad_revocation", body
    assert httpx.post(gateway.admin + "/revocations", json={}).status_code == 401  # no token
    body = {"kind": "token", "id": "leaked-1", "expires_in": 600}
    made = httpx.post(gateway.admin + "/revocations", headers=_admin(), json=body)
    assert made.status_code == 201 and made.json()["until"] > time.time()
    refused = httpx.get(gateway.url + "/accounts", headers=leaked)  # at once on this gateway
    assert (refused.status_code, refused.json()["reason"]) == (401, "token_revoked")
    gone = httpx.delete(gateway.admin + "/revocations/token/leaked-1", headers=_admin())
    assert gone.status_code == 200
    assert httpx.get(gateway.url + "/accounts", headers=leaked).status_code == 200
    again = httpx.delete(gateway.admin + "/revocations/token/leaked-1", headers=_admin())
    assert again.status_code == 404


def test_an_empty_or_short_admin_token_is_a_config_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from apiward.config import load_config
    from apiward.errors import ConfigError
    from apiward.gateway.app import Gateway

    config = tmp_path / "apiward.yaml"
    config.write_text(config_text("http://127.0.0.1:9", tmp_path))
    monkeypatch.setenv("TEST_KEY_PEPPER", PEPPER)
    for token in ("", "short"):
        monkeypatch.setenv("TEST_ADMIN_TOKEN", token)
        with pytest.raises(ConfigError, match="admin token must be at least"):
            Gateway(load_config(str(config)).gateway)


def test_key_requests_are_checked(gateway: Running) -> None:
    for body in ({"scopes": "admin"}, {"expires_in": -5}, {"name": 3}, ["x"]):
        answer = httpx.post(gateway.admin + "/keys", headers=_admin(), json=body)
        assert answer.status_code == 400, body
    assert httpx.get(gateway.admin + "/readyz").json() == {"ready": True}  # no addresses
    assert "upstreams" in httpx.get(gateway.admin + "/readyz", headers=_admin()).json()
