from __future__ import annotations

from collections.abc import Iterator

import pytest

from apiward.audit import RULES, AuditConfig, AuditResult, audit
from apiward.audit.engine import LOCATED_USAGES
from apiward.audit.rule import Hit
from apiward.core import Document, Location, OperationRef, Severity, from_dict
from apiward.errors import RefError, UsageError
from tests.audit.conftest import spec
from tests.audit.engine_helpers import make_rule, registered

OK = {"200": {"description": "ok"}}


def shared_schema_spec(n_ops: int = 3) -> Document:
    ref = {"$ref": "#/components/schemas/Name"}
    body = {"content": {"application/json": {"schema": ref}}}
    paths = {f"/p{i}": {"post": {"requestBody": body, "responses": OK}} for i in range(n_ops)}
    return spec(paths, components={"schemas": {"Name": {"type": "string"}}})


def only(*ids: str) -> AuditConfig:
    return AuditConfig(only=frozenset(ids))


def test_hits_at_one_location_merge_into_one_finding_with_the_usages() -> None:
    doc = shared_schema_spec(3)
    loc = Location(doc.uri, "/components/schemas/Name")

    def check(d: Document) -> Iterator[Hit]:
        yield Hit(loc, "first")
        yield Hit(loc, "second")
        yield Hit(loc, "first")

    with registered(make_rule("t-merge", check)):
        result = audit(doc, only("t-merge"))
    assert isinstance(result, AuditResult)
    [f] = result.findings
    assert f.message == "first; second"
    assert [u.key for u in f.usages] == ["POST /p0", "POST /p1", "POST /p2"]
    assert (f.rule_id, f.title, f.cwe, f.remediation) == (
        "t-merge",
        "Test rule t-merge",
        20,
        "Fix it.",
    )


def test_many_messages_are_capped() -> None:
    doc = shared_schema_spec(1)
    loc = Location(doc.uri, "/components/schemas/Name")
    with registered(make_rule("t-many", lambda d: [Hit(loc, f"m{i}") for i in range(7)])):
        [f] = audit(doc, only("t-many")).findings
    assert f.message == "m0; m1; m2 (and 4 more)"


def test_usages_given_by_the_hit_win_and_are_deduplicated() -> None:
    doc = shared_schema_spec(3)
    loc = Location(doc.uri, "/components/schemas/Name")
    ref = OperationRef("GET /x", Location(doc.uri, "/paths/~1x/get"))

    def check(d: Document) -> Iterator[Hit]:
        yield Hit(loc, "m", usages=(ref,))
        yield Hit(loc, "m", usages=(ref,))

    with registered(make_rule("t-usages", check)):
        [f] = audit(doc, only("t-usages")).findings
    assert [u.key for u in f.usages] == ["GET /x"]


def test_a_rule_that_raises_is_recorded_and_the_audit_goes_on() -> None:
    doc = spec({"/a": {"get": {"responses": OK}}})

    def boom(d: Document) -> Iterator[Hit]:
        yield Hit(Location(d.uri, "/paths"), "partial")
        raise ZeroDivisionError("bug")

    with registered(make_rule("t-boom", boom)):
        result = audit(doc, only("t-boom", "operation-without-security"))
    assert [f.rule_id for f in result.findings] == ["operation-without-security"]
    [err] = result.rule_errors
    assert err.rule_id == "t-boom" and err.internal
    assert "ZeroDivisionError: bug" in err.message and "Traceback" in err.traceback
    assert not result.complete


def test_a_rule_stopped_by_a_bad_spec_is_not_an_internal_error() -> None:
    doc = spec({"/a": {"get": {"responses": OK}}})

    def bad(d: Document) -> Iterator[Hit]:
        raise RefError("$ref '#/nope' does not resolve", file=d.uri, pointer="/paths")
        yield  # pragma: no cover

    with registered(make_rule("t-bad-ref", bad)):
        [err] = audit(doc, only("t-bad-ref")).rule_errors
    assert not err.internal and "does not resolve" in err.message


def test_findings_are_sorted_by_severity_then_location() -> None:
    public = {"get": {"security": [], "responses": OK}}
    # two of five operations lack security: few enough to be reported one by one
    doc = spec(
        {
            "/b": {"get": {"responses": OK}},
            "/a": {"get": {"responses": OK}},
            **{f"/public{i}": public for i in range(3)},
        }
    )
    low = make_rule(
        "t-low", lambda d: [Hit(Location(d.uri, "/info"), "low")], severity=Severity.LOW
    )
    crit = make_rule(
        "t-crit", lambda d: [Hit(Location(d.uri, "/zzz"), "crit")], severity=Severity.CRITICAL
    )
    with registered(low, crit):
        result = audit(doc, only("t-low", "t-crit", "operation-without-security"))
    assert [(f.severity, f.location.pointer if f.location else "") for f in result.findings] == [
        (Severity.CRITICAL, "/zzz"),
        (Severity.HIGH, "/paths/~1a/get"),
        (Severity.HIGH, "/paths/~1b/get"),
        (Severity.LOW, "/info"),
    ]


def test_all_rules_run_by_default() -> None:
    result = audit(spec({"/a": {"get": {"responses": OK}}}))
    assert [r.id for r in result.rules] == RULES.names()
    assert set(result.timings) == set(RULES.names())
    assert result.operations == 1 and result.title == "t" and result.version == "3.1.0"


def test_disabled_rules_do_not_run_unless_named_explicitly() -> None:
    doc = spec({"/a": {"get": {"responses": OK}}})
    off = AuditConfig(disabled=frozenset({"operation-without-security"}))
    assert "operation-without-security" not in [r.id for r in audit(doc, off).rules]
    named = AuditConfig(
        only=frozenset({"operation-without-security"}),
        disabled=frozenset({"operation-without-security"}),
    )
    assert [r.id for r in audit(doc, named).rules] == ["operation-without-security"]


def test_severity_override_applies_to_rule_and_findings() -> None:
    doc = spec({"/a": {"get": {"responses": OK}}})
    cfg = AuditConfig(
        only=frozenset({"operation-without-security"}),
        severities={"operation-without-security": Severity.LOW},
    )
    result = audit(doc, cfg)
    assert result.rules[0].severity is Severity.LOW
    assert [f.severity for f in result.findings] == [Severity.LOW]
    assert RULES.get("operation-without-security").severity is Severity.HIGH


@pytest.mark.parametrize(
    "cfg",
    [
        AuditConfig(only=frozenset({"operation-without-securty"})),
        AuditConfig(disabled=frozenset({"nope"})),
        AuditConfig(severities={"nope": Severity.LOW}),
    ],
)
def test_unknown_rule_ids_are_usage_errors(cfg: AuditConfig) -> None:
    with pytest.raises(UsageError, match="unknown audit rule"):
        audit(spec(), cfg)


def test_did_you_mean_for_a_misspelt_rule() -> None:
    with pytest.raises(UsageError, match="did you mean operation-without-security"):
        audit(spec(), AuditConfig(only=frozenset({"operation-without-securty"})))


def test_only_the_first_usages_are_located(monkeypatch: pytest.MonkeyPatch) -> None:
    doc = shared_schema_spec(LOCATED_USAGES + 5)
    calls: list[Location] = []

    def fake_locate(loc: Location) -> Location:
        calls.append(loc)
        return Location(loc.file, loc.pointer, 7, 3)

    monkeypatch.setattr(doc, "locate", fake_locate)
    loc = Location(doc.uri, "/components/schemas/Name")
    with registered(make_rule("t-loc", lambda d: [Hit(loc, "m")])):
        [f] = audit(doc, only("t-loc")).findings
    assert f.location == Location(doc.uri, "/components/schemas/Name", 7, 3)
    assert all(u.location.line == 7 for u in f.usages[:LOCATED_USAGES])
    assert all(u.location.line is None for u in f.usages[LOCATED_USAGES:])
    assert len(calls) == len(set(calls)) == 1 + LOCATED_USAGES  # each location once


def test_a_failing_position_lookup_costs_only_line_numbers(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    doc = spec({"/a": {"get": {"responses": OK}}})

    def broken(loc: Location) -> Location:
        raise RuntimeError("index broken")

    monkeypatch.setattr(doc, "locate", broken)
    result = audit(doc, only("operation-without-security"))
    assert [f.location.line if f.location else 0 for f in result.findings] == [None]
    assert result.warnings == ["could not compute line numbers: index broken"]


def test_the_score_is_part_of_the_result() -> None:
    clean = spec({"/a": {"get": {"security": [], "responses": OK}}})
    assert audit(clean, only("operation-without-security")).score.total == 100
    dirty = spec({"/a": {"get": {"responses": OK}}})
    assert audit(dirty, only("operation-without-security")).score.total < 100


def test_a_parameter_repeated_inline_in_many_operations_is_one_finding() -> None:
    param = {"name": "pretty", "in": "query", "schema": {"type": "string"}}
    other = {"name": "dryRun", "in": "query", "schema": {"type": "string"}}
    ok = {"200": {"description": "ok"}}
    paths = {f"/r{i}": {"get": {"parameters": [param, other], "responses": ok}} for i in range(4)}
    doc = from_dict({"openapi": "3.0.3", "info": {"title": "t", "version": "1"}, "paths": paths})
    result = audit(doc, only("string-without-max-length"))
    by_message = {f.message: f for f in result.findings}
    assert set(by_message) == {
        "1 string without maxLength: query parameter pretty",
        "1 string without maxLength: query parameter dryRun",
    }
    pretty = by_message["1 string without maxLength: query parameter pretty"]
    assert pretty.location is not None
    assert pretty.location.pointer == "/paths/~1r0/get/parameters/0/schema"
    assert sorted(u.key for u in pretty.usages) == [f"GET /r{i}" for i in range(4)]
