"""Least data out: undeclared response fields stripped, sensitive values masked."""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

import pytest

import apiward.demo
from apiward.core import from_dict, load
from apiward.gateway.response_filter import MaskPolicy, ResponseBlocked, ResponseFilter

SPEC = Path(apiward.demo.__file__).parent / "openapi.yaml"
USER = {"id": 1, "username": "ann", "email": "ann@example.org", "role": "user"}


@cache
def filters() -> dict[str, ResponseFilter]:
    doc = load(str(SPEC))
    return {
        op.operation_id: ResponseFilter.compile(doc, op) for op in doc.operations if op.operation_id
    }


def test_declared_fields_pass_unchanged() -> None:
    assert filters()["getProfile"].filter(200, dict(USER)) == USER


def test_undeclared_fields_dropped_recursively() -> None:
    page = {
        "items": [{"id": 1, "from_account": 1, "to_account": 2, "amount": 5, "memo": "m",
                   "created_at": 0, "internal_fraud_score": 0.9}],
        "limit": 20, "offset": 0, "total": 1, "debug": {"sql": "select ..."},
    }  # fmt: skip
    out = filters()["listTransfers"].filter(200, page)
    assert "debug" not in out and "internal_fraud_score" not in out["items"][0]
    assert out["items"][0]["memo"] == "m"


def test_sensitive_declared_fields_masked() -> None:
    leaky = {**USER, "ssn": "123-45-6789", "password_hash": "$2b$12$abc", "is_admin": False}
    out = filters()["getProfile"].filter(200, leaky)
    assert out["ssn"] == "****" and out["password_hash"] == "****"
    assert out["is_admin"] is False


def test_login_keeps_its_token() -> None:
    token = {"access_token": "eyJhbGciOi.x.y", "token_type": "Bearer", "expires_in": 60}
    assert filters()["login"].filter(200, token) == token


def test_card_numbers_masked_in_any_string() -> None:
    out = filters()["getProfile"].filter(200, {**USER, "display_name": "4111-1111-1111-1111"})
    assert out["display_name"] == "************1111"
    not_a_card = {**USER, "display_name": "1234567890123"}  # fails the Luhn check
    assert filters()["getProfile"].filter(200, not_a_card) == not_a_card


def test_error_responses_filtered_too() -> None:
    out = filters()["getProfile"].filter(401, {"error": "no", "trace": "File x.py"})
    assert out == {"error": "no"}


def test_undeclared_status_or_body_blocked() -> None:
    with pytest.raises(ResponseBlocked) as caught:
        filters()["getProfile"].filter(418, {"error": "teapot"})
    assert (caught.value.status, caught.value.code) == (502, "response.status")
    with pytest.raises(ResponseBlocked) as caught:
        filters()["adminReset"].filter(204, {"leak": 1})
    assert caught.value.code == "response.media"


def test_deep_upstream_body_blocked() -> None:
    deep: Any = 1
    for _ in range(100):
        deep = {"x": deep}
    doc = from_dict(spec({"type": "object", "additionalProperties": True}))
    with pytest.raises(ResponseBlocked):
        ResponseFilter.compile(doc, doc.operations[0]).filter(200, deep)


def spec(schema: dict[str, Any]) -> dict[str, Any]:
    return {
        "openapi": "3.1.0",
        "info": {"title": "t", "version": "1"},
        "paths": {
            "/x": {
                "get": {
                    "responses": {
                        "2XX": {
                            "description": "ok",
                            "content": {"application/json": {"schema": schema}},
                        },
                        "default": {"description": "error"},
                    }
                }
            }
        },
    }


def filter_with(schema: dict[str, Any], body: Any, status: int = 200) -> Any:
    doc = from_dict(spec(schema))
    return ResponseFilter.compile(doc, doc.operations[0]).filter(status, body)


def test_additional_properties_schema_and_true() -> None:
    schema = {
        "type": "object",
        "properties": {"meta": {"type": "object", "additionalProperties": True}},
        "additionalProperties": {"type": "object", "properties": {"a": {"type": "integer"}}},
    }
    body = {"meta": {"anything": {"goes": 1}, "secret": "s"}, "k": {"a": 1, "b": 2}}
    assert filter_with(schema, body, 201) == {
        "meta": {"anything": {"goes": 1}, "secret": "****"},
        "k": {"a": 1},
    }


def test_one_of_alternatives_merged() -> None:
    schema = {
        "oneOf": [
            {"type": "object", "properties": {"cat": {"type": "string"}}},
            {"type": "object", "properties": {"dog": {"type": "string"}}},
        ]
    }
    assert filter_with(schema, {"cat": "c", "dog": "d", "x": 1}) == {"cat": "c", "dog": "d"}


def test_default_response_without_json_blocks() -> None:
    with pytest.raises(ResponseBlocked):
        filter_with({"type": "object"}, {"error": "x"}, status=500)


def test_mask_policy_words_and_keep() -> None:
    policy = MaskPolicy()
    for name in ("password", "newPassword", "api_key", "apiKey", "card_number", "clientSecret"):
        assert policy.is_sensitive(name), name
    for name in ("username", "access_token", "expires_in", "passenger", "spinner"):
        assert not policy.is_sensitive(name), name
