"""How records are shown: the vulnerable mode dumps whole records, the secure one what is needed."""

from __future__ import annotations

from typing import Any

from apiward.demo.store import Account, Transfer, User


def user_json(user: User, *, secure: bool) -> dict[str, Any]:
    data: dict[str, Any] = {
        "id": user.id,
        "username": user.username,
        "email": user.email,
        "display_name": user.display_name,
        "role": user.role,
        "is_admin": user.is_admin,
    }
    if secure:
        data["ssn_last4"] = user.ssn[-4:] if user.ssn else None
    else:
        # the whole record, straight from the model
        data["ssn"] = user.ssn
        data["password_hash"] = user.password_hash
        data["failed_logins"] = user.failed_logins
    return data


def account_json(account: Account) -> dict[str, Any]:
    return {
        "id": account.id,
        "owner_id": account.owner_id,
        "iban": account.iban,
        "nickname": account.nickname,
        "balance": float(account.balance),
        "currency": account.currency,
    }


def transfer_json(transfer: Transfer) -> dict[str, Any]:
    return {
        "id": transfer.id,
        "from_account": transfer.from_account,
        "to_account": transfer.to_account,
        "amount": float(transfer.amount),
        "memo": transfer.memo,
        "created_at": transfer.created_at,
    }
