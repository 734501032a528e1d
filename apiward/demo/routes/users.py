"""The caller's profile and avatar."""

from __future__ import annotations

import base64

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from apiward.demo import validate
from apiward.demo.fetch import fetch, host_allowed
from apiward.demo.http import ApiError, caller, read_json
from apiward.demo.state import demo
from apiward.demo.views import user_json

IMAGE_TYPES = frozenset({"image/png", "image/jpeg", "image/gif", "image/webp"})
EDITABLE = frozenset({"email", "display_name"})
# every attribute the vulnerable PATCH copies from the body onto the record
_BOUND = frozenset({"email", "display_name", "role", "ssn", "username", "is_admin"})


async def me(request: Request) -> Response:
    principal = caller(request)
    return JSONResponse(user_json(principal.user, secure=demo(request).secure))


async def update_me(request: Request) -> Response:
    instance = demo(request)
    user = caller(request).user
    data = await read_json(request)
    if not instance.secure:
        for key, value in data.items():
            if key == "is_admin":
                user.role = "admin" if value else "user"
            elif key in _BOUND and isinstance(value, str):
                setattr(user, key, value)
        return JSONResponse(user_json(user, secure=False))
    unknown = sorted(set(data) - EDITABLE)
    if unknown:
        raise ApiError(400, f"unknown or read-only field(s): {', '.join(unknown)}")
    if "email" in data:
        user.email = validate.text(data, "email", secure=True, max_len=254, pattern=validate.EMAIL)
    if "display_name" in data:
        user.display_name = validate.text(data, "display_name", secure=True, max_len=64)
    return JSONResponse(user_json(user, secure=True))


async def import_avatar(request: Request) -> Response:
    instance = demo(request)
    user = caller(request).user
    data = await read_json(request)
    url = validate.text(data, "url", secure=instance.secure, max_len=2048)
    if instance.secure and not host_allowed(url, instance.settings.avatar_hosts):
        raise ApiError(400, "avatars can only be imported from the image CDN")
    body, content_type = await fetch(url, verbose_errors=not instance.secure)
    if instance.secure and not content_type.startswith(("image/png", "image/jpeg")):
        raise ApiError(422, "the URL is not a PNG or JPEG image")
    user.avatar, user.avatar_type = body, content_type
    result: dict[str, object] = {"size": len(body), "content_type": content_type}
    if not instance.secure:
        # "preview" echoes what the server fetched: a full-read SSRF
        result["preview"] = base64.b64encode(body[:512]).decode()
    return JSONResponse(result, status_code=201)


async def avatar(request: Request) -> Response:
    user = caller(request).user
    if user.avatar is None:
        raise ApiError(404, "no avatar")
    media_type = user.avatar_type.split(";")[0].strip()
    if media_type in IMAGE_TYPES:
        return Response(user.avatar, media_type=media_type)
    return Response(
        user.avatar,
        media_type="application/octet-stream",
        headers={"Content-Disposition": 'attachment; filename="avatar"'},
    )


def routes(secure: bool) -> list[BaseRoute]:
    return [
        Route("/users/me", me, methods=["GET"]),
        Route("/users/me", update_me, methods=["PATCH"]),
        Route("/users/me/avatar", avatar, methods=["GET"]),
        Route("/users/me/avatar/import", import_avatar, methods=["POST"]),
    ]
