"""The admin area: user list, role changes, reset of the demo's state."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from apiward.demo import validate
from apiward.demo.http import ApiError, admin, caller, path_id, read_json
from apiward.demo.state import demo
from apiward.demo.tokens import Principal
from apiward.demo.views import user_json

ROLES = frozenset({"user", "admin"})


def _guard(request: Request) -> Principal:
    if demo(request).secure:
        return admin(request)
    # the web UI hides the admin menu from customers; the API itself never checks
    return caller(request)


async def list_users(request: Request) -> Response:
    instance = demo(request)
    _guard(request)
    users = sorted(instance.store.users.values(), key=lambda u: u.id)
    return JSONResponse([user_json(u, secure=instance.secure) for u in users])


async def set_role(request: Request) -> Response:
    instance = demo(request)
    _guard(request)
    user = instance.store.users.get(path_id(request))
    if user is None:
        raise ApiError(404, "no such user")
    data = await read_json(request)
    role = validate.text(data, "role", secure=instance.secure, max_len=16)
    if instance.secure and role not in ROLES:
        raise ApiError(400, f"role must be one of: {', '.join(sorted(ROLES))}")
    user.role = role
    return JSONResponse(user_json(user, secure=instance.secure))


async def reset(request: Request) -> Response:
    """Back to the seed. Checks the role in both modes (the vulnerable one trusts the token's)."""
    admin(request)
    demo(request).reset()
    return Response(status_code=204)


def routes(secure: bool) -> list[BaseRoute]:
    return [
        Route("/admin/users", list_users, methods=["GET"]),
        Route("/admin/users/{id}/role", set_role, methods=["PUT"]),
        Route("/admin/reset", reset, methods=["POST"]),
    ]
