"""`apiward demo`: the walkthrough a newcomer runs first, end to end over real sockets."""

from __future__ import annotations

import re
import socket
import subprocess
import sys
import time

import httpx

from apiward.audit import audit
from apiward.cli.demo import match_spec_entries
from apiward.core import load
from apiward.demo import load_manifest, serve


def test_audit_reports_every_planted_spec_flaw_with_its_rule() -> None:
    manifest = load_manifest()
    with serve() as url:
        result = audit(load(f"{url}/openapi.yaml"))
    matches = match_spec_entries(manifest.spec, result)
    assert len(matches) == len(manifest.spec) >= 20
    missing = [m.entry.id for m in matches if m.finding is None]
    assert missing == []


def test_every_spec_entry_names_a_registered_rule() -> None:
    from apiward.audit import RULES

    for entry in load_manifest().spec:
        assert entry.rules, f"{entry.id} names no audit rule"
        for rule_id in entry.rules:
            assert rule_id in RULES, f"{entry.id}: unknown rule {rule_id}"


def _demo(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "apiward", "demo", *args],
        capture_output=True,
        text=True,
        timeout=120,
        env={"COLUMNS": "120", "PATH": "/usr/bin:/bin"},
    )


def test_demo_command_prints_audit_scan_and_ground_truth() -> None:
    proc = _demo()
    assert proc.returncode == 0, proc.stderr
    out = " ".join(proc.stdout.split())  # rich wraps long lines
    n = len(load_manifest().spec)
    assert f"the audit found {n} of {n} planted spec flaws" in out
    assert "Score " in out and "operation-without-security" in out
    runtime = len(load_manifest().runtime)
    assert f"the scan found {runtime} of {runtime} planted live vulnerabilities" in out
    assert "bola-read" in out and "curl -i -X" in out
    assert "apiward scan SPEC -t URL" in out  # where to go next
    # the same bank behind apiward gateway: most planted flaws blocked, the BOLA ones not
    # (object ownership is the app's to check; the spec cannot say who owns account 3)
    blocked = re.search(r"The gateway blocked (\d+) of (\d+) flaws", out)
    assert blocked is not None, out[-2000:]
    assert int(blocked.group(2)) == runtime and int(blocked.group(1)) >= 20
    assert "SQL injection in merchant search blocked" in out
    assert "Any customer can read any account still found" in out


def test_demo_secure_scans_the_twin_and_finds_nothing() -> None:
    proc = _demo("--secure")
    assert proc.returncode == 0, proc.stderr
    assert "the scan reported 0 findings" in " ".join(proc.stdout.split())  # wrapped or not


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def test_demo_serve_runs_the_api_until_stopped() -> None:
    port = _free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "apiward", "demo", "--serve", "--port", str(port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                resp = httpx.get(f"http://127.0.0.1:{port}/openapi.yaml", timeout=2)
                break
            except httpx.TransportError:
                assert proc.poll() is None, proc.communicate()[1]
                assert time.monotonic() < deadline, "demo --serve did not start"
                time.sleep(0.1)
        assert resp.status_code == 200
        assert "openapi: 3.1" in resp.text
    finally:
        proc.terminate()
        out, _ = proc.communicate(timeout=10)
    assert "alice" in out  # the seeded credentials are shown to the user
