"""The demo bank as a Starlette app, in its vulnerable or its secure mode."""

from __future__ import annotations

import dataclasses

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute

from apiward.demo.http import ApiError, error_response
from apiward.demo.middleware import (
    BodyLimitMiddleware,
    ErrorMiddleware,
    HeadersMiddleware,
    TraceMiddleware,
)
from apiward.demo.routes import accounts, admin, auth, legacy, meta, partner, tools, users
from apiward.demo.settings import Settings
from apiward.demo.state import Demo

_ROUTERS = (meta, auth, users, accounts, tools, admin, partner, legacy)


def create_app(secure: bool = False, *, settings: Settings | None = None) -> Starlette:
    """A fresh demo bank with its seed data. ``secure`` wins over ``settings.secure``."""
    settings = dataclasses.replace(settings or Settings(), secure=secure)
    routes: list[BaseRoute] = [r for router in _ROUTERS for r in router.routes(secure)]
    app = Starlette(
        routes=routes,
        middleware=_middleware(settings),
        exception_handlers={ApiError: _api_error, HTTPException: _http_error},
    )
    app.state.demo = Demo(settings)
    return app


def _middleware(settings: Settings) -> list[Middleware]:
    secure = settings.secure
    if secure:
        cors = Middleware(
            CORSMiddleware,
            allow_origins=list(settings.cors_origins),
            allow_credentials=True,
            allow_methods=["GET", "POST", "PUT", "PATCH"],
            allow_headers=["Authorization", "Content-Type"],
        )
    else:
        # "just make the browser errors go away": every origin, with credentials
        cors = Middleware(
            CORSMiddleware,
            allow_origin_regex=".*",
            allow_credentials=True,
            allow_methods=["*"],
            allow_headers=["*"],
        )
    stack = [
        Middleware(HeadersMiddleware, secure=secure),
        Middleware(ErrorMiddleware, secure=secure),
        cors,
        Middleware(TraceMiddleware, secure=secure),
    ]
    if secure:
        stack.append(Middleware(BodyLimitMiddleware, max_bytes=settings.max_body_bytes))
    return stack


def _api_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ApiError)
    return error_response(exc.status, exc.message, exc.headers)


def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    return error_response(exc.status_code, exc.detail, dict(exc.headers or {}))
