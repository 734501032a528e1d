from __future__ import annotations

import json
from pathlib import Path

import pytest

from apiward.audit import AuditConfig, AuditResult, audit
from apiward.core import Document, load
from apiward.core.baseline import Baseline, spec_key, write_baseline
from apiward.errors import InputError

OK = {"200": {"description": "ok"}}
RULE = "operation-without-security"
SECURED = {"security": [{"key": []}], "responses": OK}


def write_spec(path: Path, paths: list[str]) -> Path:
    """An unsecured GET on each of ``paths``, plus four secured operations that keep them a
    minority (up to three), so the rule reports each one rather than one API-wide finding."""
    secured = {m: SECURED for m in ("get", "put", "post", "delete")}
    data = {
        "openapi": "3.1.0",
        "info": {"title": "t", "version": "1"},
        "paths": {"/secured": secured, **{p: {"get": {"responses": OK}} for p in paths}},
        "components": {
            "securitySchemes": {"key": {"type": "apiKey", "in": "header", "name": "X-Key"}}
        },
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data))
    return path


def run(doc: Document, baseline: frozenset[str] | None = None) -> AuditResult:
    return audit(doc, AuditConfig(only=frozenset({RULE}), baseline=baseline))


def test_round_trip_reports_only_new_findings(tmp_path: Path) -> None:
    spec = write_spec(tmp_path / "api" / "spec.json", ["/a", "/b"])
    base = tmp_path / "baseline.json"
    first = run(load(str(spec)))
    assert write_baseline(str(base), [(str(spec), first.current())]) == 2

    saved = json.loads(base.read_text())
    assert saved["version"] == 1 and saved["tool"] == "apiward"
    assert {e["spec"] for e in saved["findings"]} == {"api/spec.json"}
    assert {e["rule"] for e in saved["findings"]} == {RULE}
    assert {e["pointer"] for e in saved["findings"]} == {"/paths/~1a/get", "/paths/~1b/get"}

    write_spec(spec, ["/a", "/b", "/c"])
    known = Baseline.load(str(base)).fingerprints(str(spec))
    second = run(load(str(spec)), known)
    assert [f.location.pointer for f in second.findings if f.location] == ["/paths/~1c/get"]
    assert second.baselined == 2
    assert len(second.current()) == 3
    # baselined findings are still in the spec: they count in the score
    assert second.score.total == run(load(str(spec))).score.total


def test_fixed_findings_are_counted(tmp_path: Path) -> None:
    spec = write_spec(tmp_path / "spec.json", ["/a", "/b"])
    base = tmp_path / "baseline.json"
    write_baseline(str(base), [(str(spec), run(load(str(spec))).current())])
    write_spec(spec, ["/a"])
    result = run(load(str(spec)), Baseline.load(str(base)).fingerprints(str(spec)))
    assert result.findings == [] and result.baseline_fixed == 1


def test_entries_belong_to_their_spec(tmp_path: Path) -> None:
    a = write_spec(tmp_path / "a.json", ["/x"])
    b = write_spec(tmp_path / "b.json", ["/x"])  # same rule, same pointer, other file
    base = tmp_path / "baseline.json"
    write_baseline(str(base), [(str(a), run(load(str(a))).current())])
    baseline = Baseline.load(str(base))
    assert run(load(str(a)), baseline.fingerprints(str(a))).findings == []
    assert len(run(load(str(b)), baseline.fingerprints(str(b))).findings) == 1


def test_entries_without_spec_apply_everywhere(tmp_path: Path) -> None:
    a = write_spec(tmp_path / "a.json", ["/x"])
    fp = run(load(str(a))).findings[0].fingerprint
    base = tmp_path / "baseline.json"
    base.write_text(json.dumps({"findings": [{"fingerprint": fp}]}))
    assert Baseline.load(str(base)).fingerprints(str(tmp_path / "other.json")) == {fp}


def test_the_file_is_sorted_and_stable(tmp_path: Path) -> None:
    spec = write_spec(tmp_path / "spec.json", ["/b", "/a", "/c"])
    findings = run(load(str(spec))).current()
    one, two = tmp_path / "1.json", tmp_path / "2.json"
    write_baseline(str(one), [(str(spec), findings)])
    write_baseline(str(two), [(str(spec), list(reversed(findings)))])
    assert one.read_text() == two.read_text()


def test_spec_key_is_relative_to_the_baseline(tmp_path: Path) -> None:
    assert spec_key(str(tmp_path / "x" / "s.yaml"), str(tmp_path / "b.json")) == "x/s.yaml"
    assert spec_key("http://127.0.0.1:8000/o.json", "b.json") == "http://127.0.0.1:8000/o.json"


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "baseline file not found"),
        ("{not json", "not valid JSON"),
        ('{"nope": 1}', "no 'findings' list"),
        ('{"findings": [{"rule": "x"}]}', "entry 0 has no 'fingerprint'"),
    ],
)
def test_bad_baselines_are_input_errors(tmp_path: Path, content: str | None, message: str) -> None:
    path = tmp_path / "baseline.json"
    if content is not None:
        path.write_text(content)
    with pytest.raises(InputError, match=message) as info:
        Baseline.load(str(path))
    assert str(path) in str(info.value)
