from tests.audit.conftest import run
from tests.audit.rules.bodies import BODY, returned, sent

RULE = "additional-properties-unbounded"


def test_fires_on_typed_maps_without_max_properties() -> None:
    props = {
        "labels": {"type": "object", "additionalProperties": {"type": "string"}},
        "refs": {"unevaluatedProperties": {"$ref": "#/components/schemas/X"}},
    }
    hits = run(RULE, sent({"type": "object", "properties": props}))
    assert [h.location.pointer for h in hits] == [BODY]
    assert hits[0].message == "2 maps without maxProperties: labels, refs"


def test_quiet_when_bounded_closed_or_open() -> None:
    props = {
        "a": {"type": "object", "maxProperties": 5, "additionalProperties": {"type": "string"}},
        "b": {"type": "object", "additionalProperties": False},
        "c": {"type": "object", "additionalProperties": True},
        "d": {"type": "object", "additionalProperties": {}},
    }
    assert run(RULE, sent({"type": "object", "properties": props})) == []


def test_quiet_on_responses() -> None:
    schema = {"type": "object", "additionalProperties": {"type": "string"}}
    assert run(RULE, returned(schema)) == []
