"""Which properties look privileged, and what value would escalate each.

Shared by the mass-assignment probes (updates of the caller's own objects,
and creations): a property's *kind* (privilege, ownership, money, status,
other, or never to be touched), a plausible more-privileged value, and
whether a value read back is the one sent.
"""

from __future__ import annotations

import re
import secrets
from typing import Any

from apiward.scan.values import ValueGenerator
from apiward.scan.values_schema import equal, fits, is_num

__all__ = ["escalated", "field_kind", "persisted"]

_PRIVILEGE = re.compile(
    r"^(roles?|(is_)?(admin|administrator|superuser|super_user|staff|root|moderator)|"
    r"permissions?|scopes?|groups?|privileges?|authorit(y|ies)|access_level|"
    r"(user|account)_type|(is_)?(email_)?verified|(is_)?approved|(is_)?premium|plan|tier|vip)$"
)
_MONEY = re.compile(r"^(balance|credits?|credit_limit|points|wallet|price|cost|fee|discount)$")
_STATUS = re.compile(r"^(status|state)$")
_OWNER = re.compile(r"^(owner|owner_id|user_id|tenant_id|org_id|organization_id|account_owner)$")
# never touched: identifiers, credentials, timestamps, and whatever could lock the identity out
_NEVER = re.compile(
    r"(^|_)(id|uuid|guid|pk|key|slug|username|login|email|phone|mobile|password|passwd|hash|"
    r"salt|token|secret|otp|mfa|totp|session|iban|bic|swift|routing|account_number|card)(_|$)"
    r"|_at$|^(created|updated|modified|deleted|date|time|timestamp|last_.*)$"
    r"|fail|lock|attempt|expir|(^|_)(is_)?(banned|blocked|suspended|disabled|deleted|active|"
    r"enabled)(_|$)"
)
_ADMIN_WORDS = ("admin", "administrator", "superuser", "root", "owner", "staff", "manager")
_BETTER_PLANS = ("premium", "pro", "enterprise", "business", "gold", "platinum", "vip", "unlimited")
_GOOD_STATUS = ("approved", "active", "verified", "completed", "confirmed", "paid", "premium")


def _snake(name: str) -> str:
    return re.sub(r"(?<=[a-z0-9])([A-Z])", r"_\1", name).lower().replace("-", "_")


def field_kind(name: str) -> str:
    """privilege, owner, money, status, never (identifiers, credentials...) or other."""
    snake = _snake(name)
    for kind, pattern in (
        ("privilege", _PRIVILEGE), ("owner", _OWNER), ("money", _MONEY), ("status", _STATUS)
    ):  # fmt: skip
        if pattern.search(snake):
            return kind
    return "never" if _NEVER.search(snake) else "other"


def _enum(schema: dict[str, Any]) -> list[Any]:
    enum = schema.get("enum")
    return enum if isinstance(enum, list) else []


def escalated(values: ValueGenerator, name: str, current: Any, schema: dict[str, Any]) -> Any:
    """A plausible, different value for property ``name`` (None: leave it alone)."""
    kind = field_kind(name)
    declared = _enum(schema)
    enum = [v for v in declared if not equal(v, current)]
    if isinstance(current, bool):
        return True if current is False else None  # only ever towards more, never disable
    if isinstance(current, list):
        if kind == "privilege" and all(isinstance(v, str) for v in current):
            return None if "admin" in current else [*current, "admin"]
        return None
    if is_num(current):
        if kind == "money":
            snake = _snake(name)
            if snake in ("price", "cost", "fee"):
                return round(current / 2, 2) if current > 0 else None
            return current + (10 if snake == "discount" else 1000)
        return current + 1
    if not isinstance(current, str):
        return None
    if kind == "privilege":
        if current.lower() in _ADMIN_WORDS:
            return None
        ranked = sorted(
            (v for v in enum if isinstance(v, str)),
            key=lambda v: (v.lower() not in _ADMIN_WORDS, v.lower() not in _BETTER_PLANS),
        )
        if ranked or declared:
            return ranked[0] if ranked else None
        snake = _snake(name)
        if snake in ("plan", "tier"):
            return "premium" if current.lower() != "premium" else None
        return "admin" if re.search(r"role|group|type|level|authorit|privilege", snake) else None
    if kind == "status":
        good = [v for v in (enum or _GOOD_STATUS) if isinstance(v, str) and v in _GOOD_STATUS]
        good = [v for v in good if v != current]
        return good[0] if good else (enum[0] if enum else None)
    if declared:
        return enum[0] if enum else None
    value = values.value(schema, name) if schema else None
    if isinstance(value, str) and value != current and fits(value, schema):
        return value
    if schema.get("format") or schema.get("pattern"):
        return None
    return f"apiward-{secrets.token_hex(3)}"


def persisted(read: Any, sent: Any) -> bool:
    """The value read back is the one sent (a list: it holds what was added)."""
    if isinstance(sent, list) and isinstance(read, list):
        return all(any(equal(s, r) for r in read) for s in sent)
    if is_num(sent) and is_num(read):
        return abs(float(read) - float(sent)) < 1e-6
    if isinstance(sent, str) and isinstance(read, str):
        return sent.lower() == read.lower()
    return equal(read, sent)
