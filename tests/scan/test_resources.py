"""The resource pool: kinds from paths and names, ownership from listings."""

from __future__ import annotations

from apiward.core import from_dict
from apiward.scan.resources import ResourcePool, kind_of_field, kind_of_param, singular

DOC = from_dict(
    {
        "openapi": "3.0.3",
        "info": {"title": "t", "version": "1"},
        "paths": {
            "/accounts": {"get": {"responses": {"200": {"description": "ok"}}}},
            "/accounts/{id}": {
                "get": {
                    "parameters": [{"name": "id", "in": "path", "required": True}],
                    "responses": {"200": {"description": "ok"}},
                }
            },
            "/users/{userId}/orders/{orderId}": {
                "get": {
                    "parameters": [
                        {"name": "userId", "in": "path", "required": True},
                        {"name": "orderId", "in": "path", "required": True},
                    ],
                    "responses": {"200": {"description": "ok"}},
                }
            },
            "/users/me": {"get": {"responses": {"200": {"description": "ok"}}}},
        },
    }
)


def op(method: str, path: str):  # type: ignore[no-untyped-def]
    found = DOC.operation(method, path)
    assert found is not None
    return found


def test_singular() -> None:
    assert [singular(w) for w in ("accounts", "categories", "addresses", "status", "data")] == [
        "account",
        "category",
        "address",
        "status",
        "data",
    ]


def test_kinds_of_parameters_and_fields() -> None:
    assert kind_of_param(op("GET", "/accounts/{id}"), "id") == "account"
    assert kind_of_param(op("GET", "/users/{userId}/orders/{orderId}"), "userId") == "user"
    assert kind_of_param(op("GET", "/users/{userId}/orders/{orderId}"), "orderId") == "order"
    kinds = {"account", "order"}
    assert kind_of_field("from_account", kinds) == "account"
    assert kind_of_field("accountId", kinds) == "account"
    assert kind_of_field("order_id", kinds) == "order"
    assert kind_of_field("amount", kinds) is None


def test_ownership_from_listings_and_sharing() -> None:
    pool = ResourcePool()
    listing = op("GET", "/accounts")
    pool.harvest(listing, "alice", [{"id": 1, "nickname": "a"}, {"id": 9}], owned=True)
    pool.harvest(listing, "bob", [{"id": 3, "nickname": "b"}, {"id": 9}], owned=True)
    pool.harvest(listing, "admin", [{"id": 1}, {"id": 3}, {"id": 9}], owned=True)
    pool.admins = {"admin"}
    assert pool.others("account", "alice") == [], "9 is in both listings: a shared catalogue"
    assert {r.fields["id"] for r in pool.owner_view("account", "alice")} == {1, 9}


def test_private_objects_are_the_others_when_no_object_is_shared() -> None:
    pool = ResourcePool()
    listing = op("GET", "/accounts")
    pool.harvest(listing, "alice", [{"id": 1}, {"id": 2}], owned=True)
    pool.harvest(listing, "bob", [{"id": 3}], owned=True)
    pool.harvest(listing, "admin", [{"id": 1}, {"id": 2}, {"id": 3}], owned=True)
    pool.admins = {"admin"}
    (res,) = pool.others("account", "alice")
    assert pool.value(res, "id") == 3, "admins see everything: that makes nothing shared"
    assert pool.value(res, "accountId") == 3


def test_wrapped_and_nested_objects() -> None:
    pool = ResourcePool()
    pool.harvest(
        op("GET", "/users/me"),
        "alice",
        {"data": {"id": 7, "name": "alice", "orders": [{"id": 70}, {"id": 71}]}},
        owned=True,
    )
    assert {r.fields["id"] for r in pool.resources("user")} == {7}
    assert {r.fields["id"] for r in pool.resources("order")} == {70, 71}


def test_bounded() -> None:
    pool = ResourcePool()
    pool.harvest(op("GET", "/accounts"), "alice", [{"id": i} for i in range(10_000)], owned=True)
    assert len(pool.resources("account")) <= 200
