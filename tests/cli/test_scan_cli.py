"""``apiward scan`` through the real entry point against a real demo bank, exit codes included."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from apiward.demo import Settings, demo_file, serve

SPEC = demo_file("openapi.yaml")
CONFIG = demo_file("scan.yaml")


@pytest.fixture
def bank() -> Iterator[str]:
    with serve(False, settings=Settings()) as url:
        yield url


def test_list_checks(cli: Any) -> None:
    result = cli("scan", "--list-checks")
    assert result.code == 0
    assert "bola-read" in result.out and "API1:2023" in result.out and "CWE-639" in result.out


def test_help_reads_like_a_manual(cli: Any) -> None:
    result = cli("scan", "--help")
    assert result.code == 0
    for words in ("Examples:", "--target", "--safe", "--resume", "Exit codes"):
        assert words in result.out


def test_no_spec_is_a_usage_error(cli: Any) -> None:
    result = cli("scan")
    assert result.code == 2 and "no spec given" in result.err


def test_unknown_check_is_named(cli: Any) -> None:
    result = cli("scan", SPEC, "--target", "http://127.0.0.1:9", "-k", "bola-raed")
    assert result.code == 2
    assert "unknown scan check 'bola-raed'" in result.err


def test_config_errors_name_the_key(cli: Any, tmp_path: Path) -> None:
    config = tmp_path / "apiward.yaml"
    config.write_text("scan:\n  identities:\n    alice:\n      login:\n        operation: login\n")
    result = cli("scan", SPEC, "--config", str(config))
    assert result.code == 2
    assert "scan.identities.alice.login.operation" in result.err
    assert "'login' is not an operation" in result.err


def test_unreachable_target(cli: Any) -> None:
    result = cli("scan", SPEC, "--target", "http://127.0.0.1:9", "-k", "bola-read")
    assert result.code == 2 and "cannot reach the target http://127.0.0.1:9" in result.err
    assert "Traceback" not in result.err


def test_findings_gate_the_exit_code_and_baseline_accepts_them(
    cli: Any, bank: str, tmp_path: Path
) -> None:
    base = ["scan", SPEC, "--target", bank, "--config", CONFIG, "-k", "bola-read"]
    result = cli(*base, "--format", "json", "--output", "scan.json")
    assert result.code == 1, result.err
    report = json.loads((tmp_path / "scan.json").read_text())
    assert [f["check"] for f in report["findings"]] == ["bola-read"]
    assert report["requests"] > 0 and "report written to scan.json" in result.err

    assert cli(*base, "--fail-on", "critical", "-q").code == 0

    result = cli(*base, "--write-baseline", "baseline.json", "-q")
    assert result.code == 0
    result = cli(*base, "--baseline", "baseline.json", "--format", "json")
    assert result.code == 0
    assert json.loads(result.out)["findings"] == []


def test_resume_keeps_the_findings_of_an_earlier_run(cli: Any, bank: str, tmp_path: Path) -> None:
    base = ["scan", SPEC, "--target", bank, "--config", CONFIG, "-k", "bola-read", "-q"]
    assert cli(*base, "--state", "state.ndjson").code == 1
    assert (tmp_path / "state.ndjson").exists()
    result = cli(*base[:-1], "--state", "state.ndjson", "--resume", "--format", "json")
    assert result.code == 1
    report = json.loads(result.out)
    assert report["resumed"] == 1 and len(report["findings"]) == 1


def test_from_state_reports_again_without_sending(cli: Any, bank: str, tmp_path: Path) -> None:
    base = ["scan", SPEC, "--target", bank, "--config", CONFIG, "-k", "bola-read"]
    assert cli(*base, "-q").code == 1
    result = cli(*base, "--from-state", "--format", "markdown", "--target", "http://127.0.0.1:9")
    assert result.code == 2 and "this state is of a scan of" in result.err  # another target
    result = cli(*base, "--from-state", "--format", "markdown")
    assert result.code == 1 and "bola-read" in result.out


def test_cli_exclusions_are_normalised_and_checked(cli: Any, bank: str) -> None:
    result = cli("scan", SPEC, "--target", bank, "--exclude", "/admin/reset")
    assert result.code == 2 and "--exclude: '/admin/reset' is not an operation" in result.err
    base = ["scan", SPEC, "--target", bank, "--config", CONFIG, "-k", "bola-read", "-q"]
    assert cli(*base, "--exclude", "get /accounts/*").code == 0  # nothing read: no finding
