"""Request helpers shared by the routers: errors, JSON bodies, callers, pagination."""

from __future__ import annotations

import base64
import binascii
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse

from apiward.demo.ratelimit import Window
from apiward.demo.state import Demo, demo
from apiward.demo.store import check_password
from apiward.demo.tokens import Principal


class ApiError(Exception):
    """An error answer: turned into ``{"error": message}`` with ``status``."""

    def __init__(self, status: int, message: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.headers = headers


def error_response(
    status: int, message: str, headers: dict[str, str] | None = None
) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status, headers=headers)


async def read_json(request: Request) -> dict[str, Any]:
    """The JSON object in the body.

    The vulnerable mode parses without a guard, so a malformed body surfaces as a
    500 with a traceback; the secure mode answers 400.
    """
    if not demo(request).secure:
        data = await request.json()
    else:
        try:
            data = await request.json()
        except ValueError:
            raise ApiError(400, "the body is not valid JSON") from None
    if not isinstance(data, dict):
        raise ApiError(400, "the body must be a JSON object")
    return data


def caller(request: Request, *, allow_basic: bool = False) -> Principal:
    """The authenticated caller, or a 401."""
    instance = demo(request)
    scheme, _, credentials = request.headers.get("authorization", "").partition(" ")
    principal: Principal | None = None
    if scheme.lower() == "bearer" and credentials:
        principal = instance.tokens.verify(credentials.strip(), instance.store)
    elif scheme.lower() == "basic" and allow_basic:
        principal = _basic(instance, credentials)
    if principal is None:
        raise ApiError(401, "authentication required", {"WWW-Authenticate": "Bearer"})
    return principal


def admin(request: Request) -> Principal:
    principal = caller(request)
    if not principal.is_admin:
        raise ApiError(403, "admin role required")
    return principal


def _basic(instance: Demo, credentials: str) -> Principal | None:
    try:
        username, _, password = base64.b64decode(credentials).decode().partition(":")
    except (binascii.Error, UnicodeDecodeError):
        return None
    user = instance.store.user_by_name(username)
    if user is None or not check_password(password, user.password_hash):
        return None
    return Principal(user, user.role)


def client_key(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def int_param(request: Request, name: str, default: int) -> int:
    raw = request.query_params.get(name)
    if raw is None:
        return default
    try:
        return int(raw)
    except ValueError:
        raise ApiError(400, f"{name} must be an integer") from None


def path_id(request: Request) -> int:
    """The ``{id}`` path parameter: a positive integer, else a 400."""
    raw: str = request.path_params["id"]
    if not raw.isdigit() or len(raw) > 10:
        raise ApiError(400, "id must be a positive integer")
    return int(raw)


def page_size(request: Request, default: int = 20) -> int:
    """``?limit=``: taken as given in vulnerable mode, bounded in secure mode."""
    limit = int_param(request, "limit", default)
    instance = demo(request)
    if instance.secure and not 1 <= limit <= instance.settings.max_page_size:
        raise ApiError(400, f"limit must be between 1 and {instance.settings.max_page_size}")
    return limit


def throttle(instance: Demo, window: Window, key: str) -> None:
    """Secure mode only: a 429 with Retry-After once ``key`` is over its burst."""
    if instance.secure and not window.hit(key):
        raise ApiError(429, "too many requests", {"Retry-After": str(window.retry_after(key))})
