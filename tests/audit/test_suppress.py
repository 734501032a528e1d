from __future__ import annotations

from typing import Any

import pytest

from apiward.audit import AuditConfig, audit
from apiward.audit.suppress import Ignores
from apiward.core import Document, loads
from tests.audit.conftest import spec as minimal_spec

OK = {"200": {"description": "ok"}}
RULE = "operation-without-security"
ONLY = AuditConfig(only=frozenset({RULE}))
SECURED = {"security": [{"key": []}], "responses": OK}
SCHEMES = {"securitySchemes": {"key": {"type": "apiKey", "in": "header", "name": "X-Key"}}}


def two_ops(**extra: Any) -> dict[str, Any]:
    """GET /a and GET /b without security among three secured operations: a minority, so
    the rule reports each of them rather than one API-wide finding."""
    return {
        "/a": {"get": {"responses": OK, **extra}},
        "/b": {"get": {"responses": OK}},
        "/c": {"get": SECURED, "put": SECURED, "delete": SECURED},
    }


def spec(paths: dict[str, Any], **top: Any) -> Document:
    """A minimal document declaring the scheme that SECURED uses."""
    return minimal_spec(paths, components=SCHEMES, **top)


@pytest.mark.parametrize("value", [[RULE], RULE, "*", [RULE, "string-without-max-length"]])
def test_ignore_on_a_node_suppresses_findings_at_it(value: Any) -> None:
    result = audit(spec(two_ops(**{"x-apiward-ignore": value})), ONLY)
    assert [f.location.pointer for f in result.findings if f.location] == ["/paths/~1b/get"]
    [s] = result.suppressed
    assert (s.reason, s.where, s.finding.rule_id) == ("ignore", "/paths/~1a/get", RULE)
    assert result.ignored == 1 and result.baselined == 0


def test_ignore_applies_below_the_node_not_beside_it() -> None:
    paths = two_ops()
    paths["/a"]["x-apiward-ignore"] = [RULE]  # on the path item: covers /a/get only
    result = audit(spec(paths), ONLY)
    assert [f.location.pointer for f in result.findings if f.location] == ["/paths/~1b/get"]


def test_ignore_on_the_root_covers_the_document() -> None:
    result = audit(spec(two_ops(), **{"x-apiward-ignore": [RULE]}), ONLY)
    assert result.findings == [] and result.ignored == 2


def test_ignore_of_another_rule_does_not_suppress() -> None:
    result = audit(spec(two_ops(**{"x-apiward-ignore": ["string-without-max-length"]})), ONLY)
    assert len(result.findings) == 2 and result.suppressed == []


def test_ignored_findings_do_not_count_in_the_score() -> None:
    ignored = audit(spec(two_ops(), **{"x-apiward-ignore": "*"}), ONLY)
    assert ignored.score.total == 100


def test_unknown_ids_and_bad_values_are_warned_about() -> None:
    paths = two_ops(**{"x-apiward-ignore": ["no-such-rule"]})
    paths["/b"]["get"]["x-apiward-ignore"] = {"rule": RULE}
    result = audit(spec(paths), ONLY)
    assert len(result.findings) == 2
    assert any("unknown rule 'no-such-rule'" in w for w in result.warnings)
    assert any("must be a list of rule ids" in w for w in result.warnings)


def test_yaml_spec_with_ignore_in_a_shared_schema() -> None:
    text = """
openapi: 3.1.0
info: {title: t, version: '1'}
security: [{key: []}]
paths:
  /a:
    post:
      requestBody:
        content:
          application/json:
            schema: {$ref: '#/components/schemas/Legacy'}
      responses: {'200': {description: ok}}
components:
  securitySchemes:
    key: {type: apiKey, in: header, name: X-Key}
  schemas:
    Legacy:
      x-apiward-ignore: [string-without-max-length]
      type: object
      properties:
        name: {type: string}
    Other:
      type: string
"""
    cfg = AuditConfig(only=frozenset({"string-without-max-length"}))
    result = audit(loads(text, uri="/tmp/spec.yaml"), cfg)
    assert [f.location.pointer for f in result.findings if f.location] == [
        "/components/schemas/Other"
    ]
    assert result.ignored == 1


def test_documents_without_the_key_are_not_walked() -> None:
    doc = spec(two_ops())
    ignores = Ignores.scan(doc, [RULE])
    assert ignores.nodes == {} and ignores.warnings == []


def test_aliased_nodes_are_walked_once() -> None:
    # an alias DAG: each level refers twice to the one below, so a naive walk
    # would record the ignore under 2**15 pointers
    lines = ["openapi: 3.1.0", "info: {title: t, version: '1'}", "paths: {}", "x-data:"]
    lines.append("  l0: &l0 {x-apiward-ignore: [" + RULE + "]}")
    for i in range(1, 16):
        lines.append(f"  l{i}: &l{i} {{a: *l{i - 1}, b: *l{i - 1}}}")
    doc = loads("\n".join(lines) + "\n", uri="/tmp/bomb.yaml")
    ignores = Ignores.scan(doc, [RULE])
    assert 1 <= len(ignores.nodes) <= 16
