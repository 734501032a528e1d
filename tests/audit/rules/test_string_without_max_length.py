from apiward.core import from_dict
from tests.audit.conftest import run, spec
from tests.audit.rules.bodies import BODY, components, ref, returned, sent

RULE = "string-without-max-length"


def test_fires_once_per_component_naming_the_strings() -> None:
    user = {
        "type": "object",
        "properties": {
            "name": {"type": "string"},
            "bio": {"type": ["string", "null"]},
            "address": {"type": "object", "properties": {"street": {"type": "string"}}},
            "tags": {"type": "array", "maxItems": 5, "items": {"type": "string"}},
        },
    }
    doc = sent(ref("User"), components=components(User=user))
    hits = run(RULE, doc)
    assert [h.location.pointer for h in hits] == ["/components/schemas/User"]
    assert hits[0].message == (
        "4 strings without maxLength: User.bio, User.name, User.tags[], User.address.street"
    )


def test_fires_on_inline_body_and_parameters() -> None:
    doc = spec(
        {
            "/x": {
                "post": {
                    "parameters": [{"name": "q", "in": "query", "schema": {"type": "string"}}],
                    "requestBody": {
                        "content": {"application/json": {"schema": {"type": "string"}}}
                    },
                    "responses": {"200": {"description": "ok"}},
                }
            }
        }
    )
    hits = run(RULE, doc)
    assert sorted(h.location.pointer for h in hits) == [
        "/paths/~1x/post/parameters/0/schema",
        BODY,
    ]
    assert {h.message for h in hits} == {
        "1 string without maxLength: query parameter q",
        "1 string without maxLength: (schema)",
    }


def test_lists_five_names_then_counts_the_rest() -> None:
    props = {f"p{i}": {"type": "string"} for i in range(8)}
    hits = run(RULE, sent({"type": "object", "properties": props}))
    assert hits[0].message == "8 strings without maxLength: p0, p1, p2, p3, p4 and 3 more"


def test_quiet_on_bounded_strings() -> None:
    props = {
        "a": {"type": "string", "maxLength": 10},
        "b": {"type": "string", "enum": ["x"]},
        "c": {"type": "string", "const": "x"},
        "d": {"type": "string", "format": "date-time"},
        "e": {"type": "string", "format": "uuid"},
        "f": {"type": "string", "pattern": "^[a-z]{1,20}$"},
        "g": {"type": "string", "readOnly": True},
        "h": {"type": "integer"},
    }
    assert run(RULE, sent({"type": "object", "properties": props})) == []


def test_open_ended_patterns_do_not_bound() -> None:
    props = {
        "a": {"type": "string", "pattern": "^[a-z]+$"},
        "b": {"type": "string", "pattern": "^a{2,}$"},
        "c": {"type": "string", "pattern": "[a-z]{1,3}"},
    }
    hits = run(RULE, sent({"type": "object", "properties": props}))
    assert hits[0].message == "3 strings without maxLength: a, b, c"


def test_quiet_on_response_only_schemas() -> None:
    assert run(RULE, returned({"type": "string"})) == []


def test_unused_components_count_as_input() -> None:
    doc = spec(components=components(Loose={"type": "string"}))
    assert [h.location.pointer for h in run(RULE, doc)] == ["/components/schemas/Loose"]


def test_openapi_30_nullable_string() -> None:
    doc = from_dict(
        {
            "openapi": "3.0.3",
            "info": {"title": "t", "version": "1"},
            "paths": {},
            "components": components(S={"type": "string", "nullable": True}),
        }
    )
    assert len(run(RULE, doc)) == 1
