from tests.audit.conftest import run
from tests.audit.rules.bodies import BODY, components, ref, returned, sent

RULE = "array-without-max-items"


def test_fires_on_unbounded_arrays() -> None:
    schema = {
        "type": "object",
        "properties": {
            "ids": {"type": "array", "items": {"type": "integer"}},
            "matrix": {
                "type": "array",
                "maxItems": 3,
                "items": {"type": ["array", "null"], "items": {"type": "number"}},
            },
        },
    }
    hits = run(RULE, sent(schema))
    assert [h.location.pointer for h in hits] == [BODY]
    assert hits[0].message == "2 arrays without maxItems: ids, matrix[]"


def test_quiet_when_bounded() -> None:
    props = {
        "a": {"type": "array", "maxItems": 10},
        "b": {"type": "array", "prefixItems": [{"type": "string"}], "items": False},
        "c": {"type": "array", "readOnly": True},
    }
    assert run(RULE, sent({"type": "object", "properties": props})) == []


def test_quiet_on_response_only_component() -> None:
    doc = returned(ref("List"), components=components(List={"type": "array"}))
    assert run(RULE, doc) == []
