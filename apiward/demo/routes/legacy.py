"""What the vulnerable deployment still runs but nobody documented: v1 API and a debug page."""

from __future__ import annotations

import platform
import sys

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from apiward.demo.db import PARTNER_API_KEY
from apiward.demo.state import demo
from apiward.demo.views import user_json


async def v1_users(request: Request) -> Response:
    """The first mobile app's user list: from before authentication existed."""
    instance = demo(request)
    users = sorted(instance.store.users.values(), key=lambda u: u.id)
    return JSONResponse({"users": [user_json(u, secure=False) for u in users]})


async def debug(request: Request) -> Response:
    instance = demo(request)
    return JSONResponse(
        {
            "debug": True,
            "python": sys.version,
            "platform": platform.platform(),
            "config": {
                "JWT_SECRET": instance.jwt_key.decode(errors="replace"),
                "PARTNER_API_KEY": PARTNER_API_KEY,
                "PARTNER_FEED_URL": instance.settings.partner_feed_url,
            },
            "users": len(instance.store.users),
            "routes": sorted({getattr(r, "path", "") for r in request.app.routes}),
        }
    )


def routes(secure: bool) -> list[BaseRoute]:
    if secure:
        return []
    return [
        Route("/api/v1/users", v1_users, methods=["GET"]),
        Route("/debug", debug, methods=["GET"]),
    ]
