from tests.audit.conftest import run
from tests.audit.rules.bodies import BODY, returned, sent

RULE = "integer-without-format"


def test_fires_on_integers_without_format() -> None:
    props = {"page": {"type": "integer", "minimum": 1}, "n": {"type": ["integer", "null"]}}
    hits = run(RULE, sent({"type": "object", "properties": props}))
    assert [h.location.pointer for h in hits] == [BODY]
    assert hits[0].message == "2 integers without format: n, page"


def test_quiet_with_format_or_both_bounds() -> None:
    props = {
        "a": {"type": "integer", "format": "int32"},
        "b": {"type": "integer", "minimum": 1, "maximum": 100},
        "c": {"type": "integer", "enum": [1, 2]},
        "d": {"type": "number"},
    }
    assert run(RULE, sent({"type": "object", "properties": props})) == []


def test_quiet_on_responses() -> None:
    assert run(RULE, returned({"type": "integer"})) == []
