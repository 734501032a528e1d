from tests.audit.conftest import run
from tests.audit.rules.bodies import BODY, returned, sent

RULE = "string-unrestricted"


def test_fires_on_free_text() -> None:
    schema = {
        "type": "object",
        "properties": {"name": {"type": "string", "maxLength": 5}, "kind": {"type": "string"}},
    }
    hits = run(RULE, sent(schema))
    assert [h.location.pointer for h in hits] == [BODY]
    assert hits[0].message == "2 strings without format, pattern or enum: kind, name"


def test_quiet_when_restricted() -> None:
    props = {
        "a": {"type": "string", "format": "email"},
        "b": {"type": "string", "pattern": "^x$"},
        "c": {"type": "string", "enum": ["x"]},
        "d": {"type": "string", "const": "x"},
    }
    assert run(RULE, sent({"type": "object", "properties": props})) == []


def test_quiet_on_responses() -> None:
    assert run(RULE, returned({"type": "string"})) == []
