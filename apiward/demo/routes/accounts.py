"""Accounts and transfers: where object-level authorization is, or is not, checked."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from apiward.demo import validate
from apiward.demo.http import (
    ApiError,
    caller,
    int_param,
    page_size,
    path_id,
    read_json,
    throttle,
)
from apiward.demo.state import Demo, demo
from apiward.demo.store import Account
from apiward.demo.tokens import Principal
from apiward.demo.views import account_json, transfer_json


def _account(instance: Demo, principal: Principal, account_id: int) -> Account:
    """The account, if the caller may see it: always in vulnerable mode (BOLA)."""
    account = instance.store.accounts.get(account_id)
    if account is None:
        raise ApiError(404, "no such account")
    if instance.secure and account.owner_id != principal.user.id and not principal.is_admin:
        raise ApiError(404, "no such account")  # 404, not 403: do not confirm it exists
    return account


async def list_accounts(request: Request) -> Response:
    instance = demo(request)
    principal = caller(request)
    return JSONResponse([account_json(a) for a in instance.store.accounts_of(principal.user.id)])


async def get_account(request: Request) -> Response:
    instance = demo(request)
    account = _account(instance, caller(request), path_id(request))
    return JSONResponse(account_json(account))


async def update_account(request: Request) -> Response:
    instance = demo(request)
    account = _account(instance, caller(request), path_id(request))
    data = await read_json(request)
    if instance.secure:
        unknown = sorted(set(data) - {"nickname"})
        if unknown:
            raise ApiError(400, f"unknown or read-only field(s): {', '.join(unknown)}")
    account.nickname = validate.text(
        data, "nickname", secure=instance.secure, max_len=40, default=account.nickname
    )
    if not instance.secure and "balance" in data:
        try:
            account.balance = Decimal(str(data["balance"]))  # whatever the client says
        except InvalidOperation:
            raise ApiError(400, "balance must be a number") from None
    return JSONResponse(account_json(account))


async def delete_account(request: Request) -> Response:
    """Left over from an admin tool: not in the spec, no ownership or role check."""
    instance = demo(request)
    caller(request)
    if instance.store.accounts.pop(path_id(request), None) is None:
        raise ApiError(404, "no such account")
    return Response(status_code=204)


async def legacy_balance(request: Request) -> Response:
    """Deprecated in the spec; still served in vulnerable mode."""
    instance = demo(request)
    if instance.secure:
        raise ApiError(410, "this operation was retired: use GET /accounts/{id}")
    principal = caller(request, allow_basic=True)
    account = instance.store.accounts.get(path_id(request))
    if account is None or account.owner_id != principal.user.id:
        raise ApiError(404, "no such account")
    return JSONResponse({"account_id": account.id, "balance": float(account.balance)})


async def list_transfers(request: Request) -> Response:
    instance = demo(request)
    principal = caller(request)
    limit = page_size(request)
    offset = max(0, int_param(request, "offset", 0))
    mine = instance.store.transfers_of(principal.user.id)
    items = mine[offset : offset + limit]
    return JSONResponse(
        {
            "items": [transfer_json(t) for t in items],
            "limit": limit,
            "offset": offset,
            "total": len(mine),
        }
    )


async def create_transfer(request: Request) -> Response:
    instance = demo(request)
    principal = caller(request)
    throttle(instance, instance.transfer_limit, f"user:{principal.user.id}")
    data = await read_json(request)
    source = _account(instance, principal, validate.integer(data, "from_account"))
    target = instance.store.accounts.get(validate.integer(data, "to_account"))
    if target is None or target.id == source.id:
        raise ApiError(400, "to_account must be another existing account")
    amount = validate.amount(data, "amount")
    memo = validate.text(data, "memo", secure=instance.secure, max_len=140, default="")
    if amount > source.balance:
        raise ApiError(409, "insufficient funds")
    transfer = instance.store.transfer(source, target, amount, memo)
    return JSONResponse(transfer_json(transfer), status_code=201)


def routes(secure: bool) -> list[BaseRoute]:
    found: list[BaseRoute] = [
        Route("/accounts", list_accounts, methods=["GET"]),
        Route("/accounts/{id}", get_account, methods=["GET"]),
        Route("/accounts/{id}", update_account, methods=["PATCH"]),
        Route("/accounts/{id}/balance", legacy_balance, methods=["GET"]),
        Route("/transfers", list_transfers, methods=["GET"]),
        Route("/transfers", create_transfer, methods=["POST"]),
    ]
    if not secure:
        found.append(Route("/accounts/{id}", delete_account, methods=["DELETE"]))
    return found
