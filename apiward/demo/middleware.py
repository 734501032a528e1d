"""Cross-cutting behaviour, each a pure ASGI middleware switched by the mode.

Vulnerable: a version banner, no security headers, tracebacks in 500 answers,
TRACE echoed back, any body size. Secure: security headers, generic errors,
TRACE refused, a body size cap.
"""

from __future__ import annotations

import importlib.metadata
import logging
import platform
import traceback

from starlette.datastructures import Headers, MutableHeaders
from starlette.responses import JSONResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

logger = logging.getLogger("apiward.demo")

SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Content-Security-Policy": "default-src 'none'; frame-ancestors 'none'",
    "Strict-Transport-Security": "max-age=31536000; includeSubDomains",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}


def _banner() -> dict[str, str]:
    def version(name: str) -> str:
        try:
            return importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            return "unknown"

    return {
        "Server": f"uvicorn/{version('uvicorn')} CPython/{platform.python_version()}",
        "X-Powered-By": f"Starlette/{version('starlette')}",
    }


class HeadersMiddleware:
    """Adds the security headers (secure) or the version banner (vulnerable)."""

    def __init__(self, app: ASGIApp, *, secure: bool) -> None:
        self.app = app
        self.extra = SECURITY_HEADERS if secure else _banner()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in self.extra.items():
                    headers.setdefault(name, value)
            await send(message)

        await self.app(scope, receive, send_with_headers)


class ErrorMiddleware:
    """Unhandled exceptions: a traceback in the answer (vulnerable) or a generic 500 (secure)."""

    def __init__(self, app: ASGIApp, *, secure: bool) -> None:
        self.app = app
        self.secure = secure

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def tracking_send(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, receive, tracking_send)
        except Exception as exc:
            if started:
                raise
            response: Response
            if self.secure:
                logger.exception("unhandled error on %s %s", scope["method"], scope["path"])
                response = JSONResponse({"error": "internal server error"}, status_code=500)
            else:
                response = JSONResponse(
                    {"error": f"{type(exc).__name__}: {exc}", "traceback": traceback.format_exc()},
                    status_code=500,
                )
            await response(scope, receive, send)


class TraceMiddleware:
    """TRACE: echoed back with every header, cookies included (vulnerable), or 405 (secure)."""

    def __init__(self, app: ASGIApp, *, secure: bool) -> None:
        self.app = app
        self.secure = secure

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "TRACE":
            await self.app(scope, receive, send)
            return
        response: Response
        if self.secure:
            response = JSONResponse({"error": "method not allowed"}, status_code=405)
        else:
            lines = [f"TRACE {scope['raw_path'].decode('latin-1')} HTTP/{scope['http_version']}"]
            lines += [f"{k}: {v}" for k, v in Headers(scope=scope).items()]
            response = Response("\r\n".join(lines) + "\r\n", media_type="message/http")
        await response(scope, receive, send)


class _TooLarge(Exception):
    pass


class BodyLimitMiddleware:
    """413 for a body over ``max_bytes``, whether announced by Content-Length or streamed."""

    def __init__(self, app: ASGIApp, *, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        too_large = JSONResponse({"error": "request body too large"}, status_code=413)
        length = Headers(scope=scope).get("content-length", "")
        if length.isdigit() and int(length) > self.max_bytes:
            await too_large(scope, receive, send)
            return
        received = 0
        started = False

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    raise _TooLarge
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, limited_receive, tracking_send)
        except _TooLarge:
            if started:
                raise
            await too_large(scope, receive, send)
