from typing import Any

from apiward.core import from_dict
from tests.audit.conftest import run
from tests.audit.rules.bodies import BODY, json_content, returned, sent

RULE = "numeric-without-limits"


def test_fires_naming_the_missing_bound() -> None:
    props = {
        "a": {"type": "integer"},
        "b": {"type": "integer", "minimum": 0},
        "c": {"type": "number", "maximum": 5},
        "d": {"type": "integer", "exclusiveMinimum": True, "maximum": 5},
    }
    hits = run(RULE, sent({"type": "object", "properties": props}))
    assert [h.location.pointer for h in hits] == [BODY]
    assert hits[0].message == (
        "4 numbers without minimum and maximum: "
        "a (no bounds), b (no maximum), c (no minimum), d (no minimum)"
    )


def test_quiet_when_bounded_in_31_style() -> None:
    props = {
        "a": {"type": "integer", "minimum": 0, "maximum": 9},
        "b": {"type": "integer", "exclusiveMinimum": 0, "exclusiveMaximum": 10},
        "c": {"type": "integer", "enum": [1, 2]},
        "d": {"type": "string"},
    }
    assert run(RULE, sent({"type": "object", "properties": props})) == []


def test_quiet_when_bounded_in_30_style() -> None:
    schema: dict[str, Any] = {
        "type": "integer",
        "minimum": 0,
        "exclusiveMinimum": True,
        "maximum": 10,
        "exclusiveMaximum": True,
    }
    doc = from_dict(
        {
            "openapi": "3.0.3",
            "info": {"title": "t", "version": "1"},
            "paths": {
                "/x": {
                    "post": {
                        "requestBody": {"content": json_content(schema)},
                        "responses": {"200": {"description": "ok"}},
                    }
                }
            },
        }
    )
    assert run(RULE, doc) == []


def test_quiet_on_responses() -> None:
    assert run(RULE, returned({"type": "integer"})) == []
