"""The engine against the real demo bank: crashes, budgets, state, resume, logs, secrets."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from apiward.config import parse_config
from apiward.core import Document, Owasp, Severity
from apiward.errors import ConfigError, InputError
from apiward.scan import CHECKS, Issue, LoginFailed, ScanContext, ScanOptions, check, scan
from tests.scan.conftest import demo_options, scan_demo


@pytest.fixture
def test_checks() -> Iterator[None]:
    """Two throwaway checks: one reports a finding per GET it can call, one crashes."""

    @check(
        "test-reports", title="t", category=Owasp.API8, cwe=1, severity=Severity.HIGH,
        remediation="r",
    )  # fmt: skip
    async def reports(ctx: ScanContext) -> None:
        """Reports every GET answered 2xx to alice."""
        alice = ctx.identity("alice")
        for op in ctx.operations("GET"):
            answer = await ctx.call(op, alice)
            if answer is not None and answer.ok:
                ctx.report(Issue(f"{op.key} answered", operation=op, exchanges=[answer]))

    @check(
        "test-crashes", title="t", category=Owasp.API8, cwe=1, severity=Severity.LOW,
        remediation="r",
    )  # fmt: skip
    async def crashes(ctx: ScanContext) -> None:
        """Always raises."""
        raise RuntimeError("boom")

    yield
    CHECKS.unregister("test-reports")
    CHECKS.unregister("test-crashes")


@pytest.mark.usefixtures("test_checks")
def test_a_crashing_check_is_recorded_and_the_others_finish(
    demo_doc: Document, vulnerable: str
) -> None:
    result = scan(demo_doc, demo_options(vulnerable, "test-reports", "test-crashes"))
    assert [e.check_id for e in result.errors] == ["test-crashes"]
    assert "RuntimeError: boom" in result.errors[0].message
    assert any(f.rule_id == "test-reports" for f in result.findings)
    assert not result.complete


@pytest.mark.usefixtures("test_checks")
def test_a_spent_budget_keeps_the_findings_made(demo_doc: Document, vulnerable: str) -> None:
    full = scan(demo_doc, demo_options(vulnerable, "test-reports"))
    cut = scan(demo_doc, demo_options(vulnerable, "test-reports", budget=full.requests - 3))
    assert cut.budget_exhausted and not full.budget_exhausted
    assert cut.requests == full.requests - 3
    assert 0 < len(cut.findings) < len(full.findings)


@pytest.mark.usefixtures("test_checks")
def test_state_file_holds_findings_and_resume_skips_finished_checks(
    demo_doc: Document, vulnerable: str, tmp_path: Path
) -> None:
    state = str(tmp_path / "state.ndjson")
    first = scan(demo_doc, demo_options(vulnerable, "test-reports", state_file=state))
    records = [json.loads(line) for line in Path(state).read_text().splitlines()]
    assert sum(r["type"] == "finding" for r in records) == len(first.findings) > 0
    assert {"type": "done", "check": "test-reports"} in records
    again = scan(demo_doc, demo_options(vulnerable, "test-reports", state_file=state, resume=True))
    assert again.resumed == len(first.findings)
    assert {f.fingerprint for f in again.findings} == {f.fingerprint for f in first.findings}
    assert again.requests < first.requests, "the finished check did not run again"


def test_resume_refuses_another_target(demo_doc: Document, vulnerable: str, tmp_path: Path) -> None:
    state = tmp_path / "state.ndjson"
    state.write_text('{"type": "start", "spec": "other.yaml", "target": "http://127.0.0.1:1"}\n')
    with pytest.raises(InputError, match=r"this state is of a scan of other\.yaml"):
        scan(demo_doc, demo_options(vulnerable, "bola-read", state_file=str(state), resume=True))


def test_request_log_and_evidence_never_hold_credentials(
    demo_doc: Document, vulnerable: str, tmp_path: Path
) -> None:
    log = tmp_path / "requests.ndjson"
    result = scan_demo(demo_doc, vulnerable, "bola-read", request_log=str(log))
    text = log.read_text()
    lines = [json.loads(line) for line in text.splitlines()]
    assert len(lines) == result.requests
    assert "Alice-Passw0rd!" not in text and "Bob-Passw0rd!!" not in text
    assert "pk_live_demo_7f3a9c2e" not in text
    tokens = [line for line in lines if line["operation"] == "POST /auth/login"]
    assert tokens and all("eyJ" not in line["response_body"] for line in tokens)
    (finding,) = result.findings
    assert finding.curl is not None and "${ALICE_TOKEN}" in finding.curl
    assert "eyJ" not in finding.curl
    assert all("eyJ" not in (e.request or "") for e in finding.evidence)


def test_unreachable_target_is_an_input_error(demo_doc: Document) -> None:
    with pytest.raises(InputError, match=r"cannot reach the target http://127\.0\.0\.1:9"):
        scan(demo_doc, demo_options("http://127.0.0.1:9", "bola-read"))


def test_a_failed_login_names_the_identity(demo_doc: Document, vulnerable: str) -> None:
    section = parse_config(
        "scan:\n  identities:\n    carol:\n      login:\n        operation: POST /auth/login\n"
        "        body: {username: carol, password: nope}\n"
    ).scan
    options = ScanOptions.from_section(section, vulnerable, select=("bola-read",))
    with pytest.raises(LoginFailed, match=r"identity 'carol': the login \(POST /auth/login\)"):
        scan(demo_doc, options)


def test_credentials_come_from_the_environment(
    demo_doc: Document, vulnerable: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    text = (
        "scan:\n  identities:\n    alice:\n      login:\n        operation: POST /auth/login\n"
        "        body: {username: alice, password: '${ALICE_PASSWORD}'}\n"
    )
    options = ScanOptions.from_section(parse_config(text).scan, vulnerable, select=("bola-read",))
    monkeypatch.delenv("ALICE_PASSWORD", raising=False)
    with pytest.raises(ConfigError, match="ALICE_PASSWORD is not set"):
        scan(demo_doc, options)
    monkeypatch.setenv("ALICE_PASSWORD", "Alice-Passw0rd!")
    assert scan(demo_doc, options).identities == ["alice", "anonymous"]


def test_refused_static_credentials_are_warned_about(demo_doc: Document, vulnerable: str) -> None:
    section = parse_config(
        "scan:\n  identities:\n    mallory:\n      headers: {Authorization: 'Bearer made-up'}\n"
    ).scan
    result = scan(demo_doc, ScanOptions.from_section(section, vulnerable, select=("bola-read",)))
    assert any("identity mallory: all" in w and "refused" in w for w in result.warnings)


def test_exclusions_hold_for_raw_probes(
    demo_doc: Document, vulnerable: str, tmp_path: Path
) -> None:
    log = tmp_path / "requests.ndjson"
    result = scan_demo(
        demo_doc, vulnerable, "shadow-endpoint", request_log=str(log),
        exclude=("* /debug*", "* /api/v1/*"),
    )  # fmt: skip
    sent = [urlsplit(json.loads(line)["url"]).path for line in log.read_text().splitlines()]
    assert sent and not [p for p in sent if p.startswith(("/debug", "/api/v1/"))]
    assert not [f for f in result.findings if f.key in ("/debug", "/api/v1/users")]
