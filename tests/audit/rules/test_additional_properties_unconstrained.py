from tests.audit.conftest import run
from tests.audit.rules.bodies import components, ref, returned, sent

RULE = "additional-properties-unconstrained"


def test_fires_on_true_and_empty_schema() -> None:
    user = {
        "type": "object",
        "additionalProperties": True,
        "properties": {
            "meta": {"type": "object", "additionalProperties": {"description": "anything"}},
            "extra": {"allOf": [{"type": "object"}], "unevaluatedProperties": {}},
        },
    }
    hits = run(RULE, sent(ref("User"), components=components(User=user)))
    assert [h.location.pointer for h in hits] == ["/components/schemas/User"]
    assert hits[0].message == (
        "3 objects accepting any extra property: User (additionalProperties), "
        "User.extra (unevaluatedProperties), User.meta (additionalProperties)"
    )


def test_quiet_when_closed_typed_or_absent() -> None:
    props = {
        "a": {"type": "object", "additionalProperties": False},
        "b": {"type": "object", "additionalProperties": {"type": "string"}},
        "c": {"type": "object", "properties": {"x": {"type": "string"}}},
        "d": {"type": "object", "unevaluatedProperties": False},
    }
    assert run(RULE, sent({"type": "object", "properties": props})) == []


def test_quiet_on_responses() -> None:
    assert run(RULE, returned({"type": "object", "additionalProperties": True})) == []
