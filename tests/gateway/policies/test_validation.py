"""The validation policy in front of the demo bank: what the spec does not describe is refused."""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import parse_qsl

import httpx
import pytest

from apiward.gateway.policies.validation import _query_pairs
from apiward.gateway.validate import Limits
from tests.gateway.policies.conftest import bank, bearer


@pytest.fixture(scope="module")
def client() -> Iterator[httpx.Client]:
    with bank(validation=Limits(max_body_bytes=2048)) as c:
        yield c


def test_mass_assignment_is_refused_with_the_field_named(client: httpx.Client) -> None:
    r = client.patch("/accounts/1", json={"nickname": "rich", "balance": 10**6}, headers=bearer())
    assert r.status_code == 400
    body = r.json()
    assert body["reason"] == "schema.additionalproperties"
    assert "balance" in body["detail"]
    assert client.get("/accounts/1", headers=bearer()).json()["balance"] != 10**6


def test_parameters_media_type_and_size_are_checked(client: httpx.Client) -> None:
    assert client.get("/transfers?limit=abc", headers=bearer()).status_code == 400
    r = client.get("/transfers?debug=1", headers=bearer())
    assert (r.status_code, r.json()["reason"]) == (400, "query.unknown")
    r = client.patch(
        "/accounts/1",
        content=b"nickname=x",
        headers={**bearer(), "content-type": "application/x-www-form-urlencoded"},
    )
    assert r.status_code == 415
    big = {"nickname": "x" * 4000}
    assert client.patch("/accounts/1", json=big, headers=bearer()).status_code == 413

    def chunks() -> Iterator[bytes]:  # chunked: no Content-Length to refuse up front
        yield b'{"nickname": "'
        for _ in range(10):
            yield b"y" * 500
        yield b'"}'

    r = client.patch(
        "/accounts/1", content=chunks(), headers={**bearer(), "content-type": "application/json"}
    )
    assert r.status_code == 413
    dup = b'{"nickname": "a", "nickname": "b"}'
    r = client.patch(
        "/accounts/1", content=dup, headers={**bearer(), "content-type": "application/json"}
    )
    assert r.status_code == 400


def test_valid_requests_pass_and_the_app_reads_the_checked_body(client: httpx.Client) -> None:
    r = client.patch("/accounts/1", json={"nickname": "savings"}, headers=bearer())
    assert r.status_code == 200
    assert r.json()["nickname"] == "savings"
    assert client.get("/transfers?limit=5", headers=bearer()).status_code == 200


@pytest.mark.parametrize(
    "query",
    [
        "",
        "a=1",
        "a=1&b=",
        "a&b",
        "&&a=1&",
        "a=1=2",
        "a=%41&b=x+y",
        "a+b=1",
        "q=%zz",
        "=v",
        "a=1;b=2",
    ],
)
def test_the_query_is_split_as_parse_qsl_splits_it(query: str) -> None:
    assert _query_pairs(query) == parse_qsl(query, keep_blank_values=True)
