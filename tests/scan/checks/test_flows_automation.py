"""business-flow-unthrottled: sign-up and transfers on the demo bank, and flow recognition."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from apiward.core import Document, from_dict
from apiward.scan.checks.flows_automation import flow_of, smallest
from tests.scan.conftest import demo_auth, scan_demo

CHECK = "business-flow-unthrottled"


def _balances(url: str) -> dict[int, float]:
    auth = demo_auth(url, "alice", "Alice-Passw0rd!")
    accounts = httpx.get(f"{url}/accounts", headers=auth).json()
    return {a["id"]: a["balance"] for a in accounts}


def test_fires_on_the_vulnerable_demo(demo_doc: Document, vulnerable: str) -> None:
    result = scan_demo(demo_doc, vulnerable, CHECK)
    found = {f.usages[0].key: f for f in result.findings}
    # the demo's password reset is unthrottled in this mode too (not a planted entry, but real)
    assert set(found) == {"POST /auth/register", "POST /transfers", "POST /auth/password-reset"}
    assert found["POST /transfers"].identity in ("alice", "bob")
    # the transfers went back and forth between the caller's own accounts
    assert sum(_balances(vulnerable).values()) == pytest.approx(12500.0)


def test_quiet_on_the_secure_demo(demo_doc: Document, secure: str) -> None:
    assert scan_demo(demo_doc, secure, CHECK).findings == []


def _op(path: str, operation_id: str | None = None, tags: list[str] | None = None) -> Any:
    body: dict[str, Any] = {"responses": {"200": {"description": "ok"}}, "tags": tags or []}
    if operation_id:
        body["operationId"] = operation_id
    spec = {"openapi": "3.0.3", "info": {"title": "t", "version": "1"},
            "paths": {path: {"post": body}}}  # fmt: skip
    return from_dict(spec).operations[0]


@pytest.mark.parametrize(
    ("path", "operation_id", "tags", "flow"),
    [
        ("/api/v1/users/signup", None, None, "sign-up"),
        ("/accounts", "createAccount", ["registration"], "sign-up"),
        ("/shop/orders", None, None, "money movement"),
        ("/cart/checkout", None, None, "money movement"),
        ("/coupons/{code}/redeem", None, None, "redemption"),
        ("/community/posts/{id}/comments", None, None, "user content"),
        ("/auth/forgot-password", None, None, "password reset"),
        ("/products", "createProduct", None, None),
        ("/payloads", None, None, None),
    ],
)  # fmt: skip
def test_flows_are_recognised(
    path: str, operation_id: str | None, tags: list[str] | None, flow: str | None
) -> None:
    assert flow_of(_op(path, operation_id, tags)) == flow


@pytest.mark.parametrize(
    ("schema", "value"),
    [
        ({"type": "number", "exclusiveMinimum": 0, "multipleOf": 0.01}, 0.01),
        ({"type": "number", "minimum": 5}, 5),
        ({"type": "integer", "minimum": 0}, 1),
        ({"type": "integer", "minimum": 10}, 10),
        ({"type": "number", "minimum": 1, "multipleOf": 0.5}, 1.0),
    ],
)
def test_smallest_amount(schema: dict[str, Any], value: float) -> None:
    assert smallest(schema) == pytest.approx(value)
