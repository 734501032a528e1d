"""Request validation against the demo bank's operations (apiward/demo/openapi.yaml)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from functools import cache
from pathlib import Path
from typing import Any

import pytest

import apiward.demo
from apiward.core import from_dict, load
from apiward.gateway.validate import (
    BodyIncomplete,
    Limits,
    OperationValidator,
    PayloadTooLarge,
    RequestRejected,
    UnsupportedMediaType,
    ValidationFailed,
    parse_json,
    read_body,
)

SPEC = Path(apiward.demo.__file__).parent / "openapi.yaml"
TRANSFER = b'{"from_account": 1, "to_account": 2, "amount": 10.5, "memo": "rent"}'


@cache
def validators() -> dict[str, OperationValidator]:
    doc = load(str(SPEC))
    return {
        op.operation_id: OperationValidator.compile(doc, op)
        for op in doc.operations
        if op.operation_id
    }


def v(operation_id: str) -> OperationValidator:
    return validators()[operation_id]


def body_error(operation_id: str, raw: bytes) -> RequestRejected:
    with pytest.raises(RequestRejected) as caught:
        v(operation_id).check_body(raw, "application/json")
    return caught.value


# --- bodies ----------------------------------------------------------------------------------


def test_valid_bodies_pass() -> None:
    assert v("createTransfer").check_body(TRANSFER, "application/json")["amount"] == 10.5
    v("register").check_body(
        b'{"username": "ann", "email": "ann@example.org", "password": "correct horse"}',
        "application/json",
    )
    v("updateProfile").check_body(b'{"display_name": "Ann", "extra": 1}', "application/json")


@pytest.mark.parametrize(
    ("operation_id", "raw", "where", "code"),
    [
        ("createTransfer", b'{"from_account": "1", "to_account": 2, "amount": 1}',
         "body/from_account", "schema.type"),
        ("createTransfer", b'{"from_account": 1, "amount": 1}', "body", "schema.required"),
        ("createTransfer", b'{"from_account": 1, "to_account": 2, "amount": 1, "admin": true}',
         "body", "schema.additionalproperties"),
        ("createTransfer", b'{"from_account": 1, "to_account": 2, "amount": -5}',
         "body/amount", "schema.exclusiveminimum"),
        ("renameAccount", b'{"nickname": "' + b"n" * 41 + b'"}', "body/nickname",
         "schema.maxlength"),
        ("register", b'{"username": "a", "email": "not-an-email", "password": "long enough pw"}',
         "body/email", "schema.format"),
        ("adminSetRole", b'{"role": "root"}', "body/role", "schema.enum"),
    ],
)  # fmt: skip
def test_schema_violations_name_the_field(
    operation_id: str, raw: bytes, where: str, code: str
) -> None:
    err = body_error(operation_id, raw)
    assert isinstance(err, ValidationFailed)
    assert (err.status, err.where, err.code) == (400, where, code)
    assert err.reason.startswith(where)


def test_extra_property_is_named() -> None:
    raw = b'{"from_account": 1, "to_account": 2, "amount": 1, "admin": true}'
    assert "'admin'" in body_error("createTransfer", raw).reason


def test_long_values_are_not_echoed() -> None:
    err = body_error("renameAccount", b'{"nickname": "' + b"n" * 5000 + b'"}')
    assert "n" * 40 not in err.reason and len(err.reason) < 200
    assert "longer than 40" in err.reason


def test_secret_values_are_never_echoed() -> None:
    raw = b'{"username": "ann", "email": "ann@example.org", "password": "hunter2"}'
    err = body_error("register", raw)
    assert err.where == "body/password" and "hunter2" not in err.reason


@pytest.mark.parametrize(
    ("raw", "code"),
    [
        (b'{"from_account": 1, "from_account": 2, "to_account": 3, "amount": 1}',
         "body.duplicate_key"),
        (b'{"memo": {"a": 1, "a": 2}}', "body.duplicate_key"),
        (b"[" * 1000 + b"]" * 1000, "body.depth"),
        (b'{"a":' * 1000 + b"1" + b"}" * 1000, "body.depth"),
        (b'{"amount": NaN}', "body.json"),
        (b'{"amount": Infinity}', "body.json"),
        (b'{"from_account": 1', "body.json"),
        (b'{"memo": "\xff"}', "body.json"),
        (b'{"amount": 1} trailing', "body.json"),
        (b"", "body.json"),
    ],
)  # fmt: skip
def test_unsafe_json_refused(raw: bytes, code: str) -> None:
    err = body_error("createTransfer", raw)
    assert (err.status, err.code) == (400, code)


def test_brackets_inside_strings_do_not_count_as_depth() -> None:
    memo = b"[" * 100 + b"{" * 39
    raw = b'{"from_account": 1, "to_account": 2, "amount": 1, "memo": "' + memo + b'"}'
    v("createTransfer").check_body(raw, "application/json")


def test_depth_limit_is_exact() -> None:
    assert parse_json(b"[" * 32 + b"]" * 32, max_depth=32) == parse_json(
        b"[" * 32 + b"]" * 32, max_depth=40
    )
    with pytest.raises(ValidationFailed):
        parse_json(b"[" * 33 + b"]" * 33, max_depth=32)


def test_lone_surrogate_fails_closed() -> None:
    raw = b'{"from_account": 1, "to_account": 2, "amount": 1, "memo": "\\ud800"}'
    assert body_error("createTransfer", raw).status == 400


def test_body_size_limit() -> None:
    doc = load(str(SPEC))
    op = next(o for o in doc.operations if o.operation_id == "createTransfer")
    small = OperationValidator.compile(doc, op, Limits(max_body_bytes=16))
    with pytest.raises(PayloadTooLarge) as caught:
        small.check_body(TRANSFER, "application/json")
    assert caught.value.status == 413


# --- content type --------------------------------------------------------------------------


def test_content_type() -> None:
    t = v("createTransfer")
    assert t.check_content_type("Application/JSON; charset=utf-8", True) == "application/json"
    for bad in ("text/plain", "application/xml", "application/json-seq", None):
        with pytest.raises(UnsupportedMediaType) as caught:
            t.check_content_type(bad, True)
        assert caught.value.status == 415
    with pytest.raises(ValidationFailed, match="required"):
        t.check_content_type(None, False)


def test_body_where_none_is_declared_is_refused() -> None:
    assert v("listTransfers").check_content_type(None, False) is None
    with pytest.raises(UnsupportedMediaType):
        v("listTransfers").check_content_type("application/json", True)


def test_optional_body_may_be_absent() -> None:
    assert v("partnerSyncMerchants").check_content_type(None, False) is None


def wildcard_and_form_spec(version: str) -> OperationValidator:
    doc = from_dict(
        {
            "openapi": version,
            "info": {"title": "t", "version": "1"},
            "paths": {
                "/x": {
                    "post": {
                        "requestBody": {
                            "content": {
                                "application/*": {"schema": {"type": "object"}},
                                "application/x-www-form-urlencoded": {
                                    "schema": {
                                        "type": "object",
                                        "additionalProperties": False,
                                        "properties": {
                                            "n": {"type": "integer", "nullable": True},
                                            "tags": {"type": "array", "items": {"type": "string"}},
                                            "ok": {"type": "boolean"},
                                        },
                                    }
                                },
                            }
                        },
                        "responses": {"200": {"description": "ok"}},
                    }
                }
            },
        }
    )
    return OperationValidator.compile(doc, doc.operations[0])


def test_wildcard_media_type() -> None:
    w = wildcard_and_form_spec("3.0.3")
    assert w.check_content_type("application/xml", True) == "application/*"
    with pytest.raises(UnsupportedMediaType):
        w.check_content_type("text/plain", True)


def test_form_bodies() -> None:
    w = wildcard_and_form_spec("3.0.3")
    form = "application/x-www-form-urlencoded"
    assert w.check_body(b"n=3&tags=a&tags=b&ok=true", form) == {
        "n": 3, "tags": ["a", "b"], "ok": True,
    }  # fmt: skip
    for raw, where in [(b"n=x", "body/n"), (b"n=1&n=2", "body/n"), (b"zz=1", "body")]:
        with pytest.raises(ValidationFailed) as caught:
            w.check_body(raw, form)
        assert caught.value.where == where


def test_openapi30_nullable() -> None:
    w = wildcard_and_form_spec("3.0.3")
    assert w.check_body(b"n=", "application/x-www-form-urlencoded") == {"n": None}


# --- parameters ----------------------------------------------------------------------------


def param_error(operation_id: str, path: dict[str, str], query: list[tuple[str, str]]) -> Any:
    with pytest.raises(ValidationFailed) as caught:
        v(operation_id).check_params(path, query, {}, {})
    return caught.value


def test_valid_params_pass() -> None:
    v("listTransfers").check_params({}, [("limit", "5"), ("offset", "0")], {}, {})
    v("listTransfers").check_params({}, [], {}, {})
    v("getAccount").check_params({"id": "7"}, [], {}, {})
    v("searchMerchants").check_params({}, [("q", "coffee")], {}, {})
    v("downloadStatement").check_params({}, [("file", "2024-01.txt")], {}, {})


def test_query_api_key_of_security_scheme_is_declared() -> None:
    v("partnerSyncMerchants").check_params({}, [("api_key", "k")], {}, {})


@pytest.mark.parametrize(
    ("operation_id", "path", "query", "where", "code"),
    [
        ("getAccount", {"id": "abc"}, [], "path parameter 'id'", "schema.type"),
        ("getAccount", {"id": "0"}, [], "path parameter 'id'", "schema.minimum"),
        ("getAccount", {"id": "+7"}, [], "path parameter 'id'", "schema.type"),
        ("getAccount", {}, [], "path parameter 'id'", "param.missing"),
        ("listTransfers", {}, [("limit", "1.5")], "query parameter 'limit'", "schema.type"),
        ("listTransfers", {}, [("limit", "1"), ("limit", "2")], "query parameter 'limit'",
         "param.repeated"),
        ("listTransfers", {}, [("debug", "1")], 'query parameter "debug"', "query.unknown"),
        ("searchMerchants", {}, [], "query parameter 'q'", "param.missing"),
        ("searchMerchants", {}, [("q", "x" * 65)], "query parameter 'q'", "schema.maxlength"),
        ("downloadStatement", {}, [("file", "../../etc/passwd")], "query parameter 'file'",
         "schema.pattern"),
    ],
)  # fmt: skip
def test_param_violations_name_the_parameter(
    operation_id: str, path: dict[str, str], query: list[tuple[str, str]], where: str, code: str
) -> None:
    err = param_error(operation_id, path, query)
    assert (err.status, err.where, err.code) == (400, where, code)
    assert where in err.reason


def test_unknown_query_can_be_allowed() -> None:
    doc = load(str(SPEC))
    op = next(o for o in doc.operations if o.operation_id == "listTransfers")
    OperationValidator.compile(doc, op, Limits(unknown_query="allow")).check_params(
        {}, [("debug", "1")], {}, {}
    )


def test_header_cookie_and_array_styles() -> None:
    doc = from_dict(
        {
            "openapi": "3.1.0",
            "info": {"title": "t", "version": "1"},
            "paths": {
                "/x": {
                    "get": {
                        "parameters": [
                            {"name": "X-Trace", "in": "header", "required": True,
                             "schema": {"type": "integer"}},
                            {"name": "sid", "in": "cookie", "schema": {"type": "string",
                                                                       "maxLength": 4}},
                            {"name": "ids", "in": "query",
                             "schema": {"type": "array", "items": {"type": "integer"}}},
                            {"name": "csv", "in": "query", "explode": False,
                             "schema": {"type": "array", "items": {"type": "boolean"}}},
                            {"name": "filter", "in": "query",
                             "content": {"application/json": {"schema": {
                                 "type": "object", "additionalProperties": False,
                                 "properties": {"a": {"type": "integer"}}}}}},
                        ],
                        "responses": {"200": {"description": "ok"}},
                    }
                }
            },
        }
    )  # fmt: skip
    x = OperationValidator.compile(doc, doc.operations[0])
    ok_query = [("ids", "1"), ("ids", "2"), ("csv", "true,false"), ("filter", '{"a": 1}')]
    x.check_params({}, ok_query, {"x-trace": "5"}, {"sid": "abcd"})
    bad: list[tuple[list[tuple[str, str]], dict[str, str], dict[str, str], str]] = [
        ([], {}, {}, "header parameter 'X-Trace'"),
        ([], {"x-trace": "a"}, {}, "header parameter 'X-Trace'"),
        ([], {"x-trace": "1"}, {"sid": "toolong"}, "cookie parameter 'sid'"),
        ([("ids", "1"), ("ids", "x")], {"x-trace": "1"}, {}, "query parameter 'ids'/1"),
        ([("csv", "true,maybe")], {"x-trace": "1"}, {}, "query parameter 'csv'/1"),
        ([("filter", '{"a": 1, "a": 2}')], {"x-trace": "1"}, {}, "query parameter 'filter'"),
        ([("filter", '{"b": 1}')], {"x-trace": "1"}, {}, "query parameter 'filter'"),
    ]
    for query, headers, cookies, where in bad:
        with pytest.raises(ValidationFailed) as caught:
            x.check_params({}, query, headers, cookies)
        assert caught.value.where == where, (query, headers, cookies)


# --- streaming reads -----------------------------------------------------------------------


def receiver(chunks: AsyncIterator[bytes]) -> Any:
    async def receive() -> dict[str, Any]:
        try:
            chunk = await anext(chunks)
        except StopAsyncIteration:
            return {"type": "http.request", "body": b"", "more_body": False}
        return {"type": "http.request", "body": chunk, "more_body": True}

    return receive


async def endless(size: int, pulled: list[int]) -> AsyncIterator[bytes]:
    for _ in range(1_000_000):  # bounded; the reader must stop long before
        pulled.append(size)
        yield b"x" * size


def test_read_body_collects_chunks() -> None:
    async def chunks() -> AsyncIterator[bytes]:
        for part in (b'{"a"', b": ", b"1}"):
            yield part

    assert asyncio.run(read_body(receiver(chunks()), 100)) == b'{"a": 1}'


def test_oversize_chunked_body_refused_while_reading() -> None:
    pulled: list[int] = []
    with pytest.raises(PayloadTooLarge) as caught:
        asyncio.run(read_body(receiver(endless(1000, pulled)), 10_000))
    assert caught.value.status == 413
    assert sum(pulled) <= 11_000  # stopped at the chunk that crossed the limit


def test_lying_content_length_does_not_help() -> None:
    pulled: list[int] = []
    with pytest.raises(PayloadTooLarge):
        asyncio.run(read_body(receiver(endless(4096, pulled)), 8192, content_length=10))


def test_declared_length_over_limit_refused_before_reading() -> None:
    pulled: list[int] = []
    with pytest.raises(PayloadTooLarge):
        asyncio.run(read_body(receiver(endless(1, pulled)), 10, content_length=11))
    assert pulled == []


def test_disconnect_and_empty_chunk_floods() -> None:
    async def gone() -> dict[str, Any]:
        return {"type": "http.disconnect"}

    with pytest.raises(BodyIncomplete):
        asyncio.run(read_body(gone, 10))
    pulled: list[int] = []
    with pytest.raises(BodyIncomplete):
        asyncio.run(read_body(receiver(endless(0, pulled)), 10, max_chunks=100))


# --- the positive model for body properties ---------------------------------------------------

OPEN_SPEC = {
    "openapi": "3.1.0",
    "info": {"title": "t", "version": "1"},
    "paths": {
        "/things": {
            "post": {
                "requestBody": {
                    "content": {
                        "application/json": {
                            "schema": {
                                "type": "object",
                                "properties": {
                                    "name": {"type": "string"},
                                    "address": {
                                        "type": "object",
                                        "properties": {"city": {"type": "string"}},
                                    },
                                    "tags": {"type": "object", "additionalProperties": True},
                                    "pet": {
                                        "oneOf": [
                                            {
                                                "properties": {"bark": {"type": "boolean"}},
                                                "required": ["bark"],
                                            },
                                            {
                                                "properties": {"meow": {"type": "boolean"}},
                                                "required": ["meow"],
                                            },
                                        ]
                                    },
                                },
                            }
                        }
                    }
                },
                "responses": {"200": {"description": "ok"}},
            }
        }
    },
}


def _things(limits: Limits | None = None) -> OperationValidator:
    doc = from_dict(OPEN_SPEC)
    return OperationValidator.compile(doc, doc.operations[0], limits)


@pytest.mark.parametrize(
    ("raw", "named"),
    [
        (b'{"name": "a", "role": "admin"}', "'role'"),
        (b'{"address": {"city": "x", "is_admin": true}}', "'is_admin'"),
        (b'{"pet": {"bark": true, "owner_id": 7}}', "body/pet"),  # each branch closed
    ],
)
def test_a_body_property_the_schema_does_not_list_is_refused(raw: bytes, named: str) -> None:
    with pytest.raises(RequestRejected) as caught:
        _things().check_body(raw, "application/json")
    assert named in caught.value.reason


def test_open_objects_stay_open_and_listed_properties_pass() -> None:
    body = b'{"name": "a", "address": {"city": "x"}, "tags": {"any": 1}, "pet": {"meow": true}}'
    assert _things().check_body(body, "application/json")["tags"] == {"any": 1}


def test_unknown_body_properties_can_be_allowed() -> None:
    raw = b'{"name": "a", "role": "admin", "address": {"is_admin": true}}'
    allowed = _things(Limits(unknown_properties="allow")).check_body(raw, "application/json")
    assert allowed["role"] == "admin"


def test_closing_leaves_data_keywords_and_conditions_alone() -> None:
    from apiward.gateway.validate import close_objects

    schema = {
        "properties": {"properties": {"type": "object", "properties": {"x": {}}}},
        "allOf": [{"properties": {"y": {}}}],
        "not": {"properties": {"z": {}}},
        "default": {"properties": {"not": "a schema"}},
    }
    closed = close_objects(schema)
    assert closed["unevaluatedProperties"] is False  # the allOf branch adds y
    assert "additionalProperties" not in closed and "additionalProperties" not in closed["allOf"][0]
    assert closed["properties"]["properties"]["additionalProperties"] is False  # nested object
    assert closed["not"] == schema["not"] and closed["default"] == schema["default"]


OBJ = {"type": "object"}
CASES = [
    # (schema, accepted, refused): what closing must keep meaning
    (  # a `not` keeps refusing what it matched (closing inside it would flip it)
        {
            **OBJ,
            "properties": {"role": {}, "n": {}},
            "not": {"properties": {"role": {"enum": ["admin"]}}, "required": ["role"]},
        },
        [{"role": "user", "n": 1}],
        [{"role": "admin", "n": 1}, {"n": 1, "extra": 2}],
    ),
    (  # if/then: the condition still applies; what `then` lists is allowed
        {
            **OBJ,
            "properties": {"country": {}, "postal": {}},
            "if": {"properties": {"country": {"const": "US"}}},
            "then": {"properties": {"postal": {"pattern": "^[0-9]{5}$"}}},
        },
        [{"country": "US", "postal": "12345"}, {"country": "FR", "postal": "ABCDE"}],
        [{"country": "US", "postal": "ABCDE"}, {"country": "US", "extra": 1}],
    ),
    (  # shared properties, variants that only require
        {
            **OBJ,
            "properties": {"a": {}, "b": {}},
            "oneOf": [{"required": ["a"]}, {"required": ["b"]}],
        },
        [{"a": 1}, {"b": 2}],
        [{"a": 1, "c": 3}],
    ),
    (  # a discriminator's shape: shared properties plus each variant's own
        {
            **OBJ,
            "properties": {"petType": {}, "name": {}},
            "oneOf": [
                {"properties": {"meow": {}}, "required": ["meow"]},
                {"properties": {"bark": {}}, "required": ["bark"]},
            ],
        },
        [{"petType": "cat", "name": "x", "meow": True}],
        [{"petType": "cat", "meow": True, "owner_id": 1}],
    ),
    (  # a free-form branch means any object: left open
        {"oneOf": [{"type": "object"}, {"type": "string"}]},
        [{"anything": 1}, "text"],
        [],
    ),
    (  # dependentSchemas: left as the spec says
        {
            **OBJ,
            "properties": {"card": {}},
            "dependentSchemas": {"card": {"properties": {"cvc": {}}}},
        },
        [{"card": "4111", "cvc": "123"}],
        [],
    ),
]


@pytest.mark.parametrize(("schema", "accepted", "refused"), CASES)
def test_closing_keeps_what_the_schema_means(
    schema: dict[str, Any], accepted: list[Any], refused: list[Any]
) -> None:
    import jsonschema_rs

    from apiward.gateway.validate import close_objects

    validator = jsonschema_rs.Draft202012Validator(close_objects(schema))
    assert [x for x in accepted if not validator.is_valid(x)] == []
    assert [x for x in refused if validator.is_valid(x)] == []


def test_a_cyclic_discriminator_in_an_openapi30_spec_still_takes_its_variants() -> None:
    spec = {
        "openapi": "3.0.3",
        "info": {"title": "pets", "version": "1"},
        "paths": {
            "/pets": {
                "post": {
                    "requestBody": {
                        "content": {
                            "application/json": {"schema": {"$ref": "#/components/schemas/Pet"}}
                        }
                    },
                    "responses": {"200": {"description": "ok"}},
                }
            }
        },
        "components": {
            "schemas": {
                "Pet": {
                    "type": "object",
                    "required": ["petType"],
                    "properties": {"petType": {"type": "string"}, "name": {"type": "string"}},
                    "discriminator": {"propertyName": "petType"},
                    "oneOf": [
                        {"$ref": "#/components/schemas/Cat"},
                        {"$ref": "#/components/schemas/Dog"},
                    ],
                },
                "Cat": {
                    "allOf": [
                        {"$ref": "#/components/schemas/Pet"},
                        {
                            "type": "object",
                            "required": ["meow"],
                            "properties": {"meow": {"type": "boolean"}},
                        },
                    ]
                },
                "Dog": {
                    "allOf": [
                        {"$ref": "#/components/schemas/Pet"},
                        {
                            "type": "object",
                            "required": ["bark"],
                            "properties": {"bark": {"type": "boolean"}},
                        },
                    ]
                },
            }
        },
    }
    doc = from_dict(spec)
    validator = OperationValidator.compile(doc, doc.operations[0])
    cat = validator.check_body(
        b'{"petType": "cat", "name": "Tom", "meow": true}', "application/json"
    )
    assert cat["meow"] is True
    with pytest.raises(RequestRejected):
        validator.check_body(b'{"petType": "cat", "meow": true, "owner_id": 1}', "application/json")
