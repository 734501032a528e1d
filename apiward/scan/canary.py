"""A canary HTTP server on 127.0.0.1: proof that the API under test called out.

SSRF and unsafe-consumption checks hand the API a URL on the canary with a
fresh token in its path; a request for that path is the proof. A check may
also set what the canary answers for a token (a poisoned partner feed).
"""

from __future__ import annotations

import asyncio
import secrets
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

__all__ = ["Canary", "CanaryHit"]

_MAX_HITS = 1000
_MAX_BODY = 64 * 1024


@dataclass(frozen=True, slots=True)
class CanaryHit:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes
    client: str
    at: float


class Canary:
    """Start with :meth:`start` (or as a context manager); hand out :meth:`url` s."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0) -> None:
        self._hits: list[CanaryHit] = []
        self._answers: dict[str, tuple[int, bytes, str]] = {}
        self._lock = threading.Lock()
        canary = self

        class Handler(BaseHTTPRequestHandler):
            def _handle(self) -> None:
                length = min(int(self.headers.get("Content-Length") or 0), _MAX_BODY)
                body = self.rfile.read(length) if length > 0 else b""
                canary._record(
                    self.command, self.path, dict(self.headers), body, self.client_address[0]
                )
                token = (
                    self.path.lstrip("/").split("/", 2)[1] if self.path.startswith("/c/") else ""
                )
                status, payload, ctype = canary._answers.get(
                    token, (200, b"apiward canary", "text/plain")
                )
                self.send_response(status)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(payload)

            do_GET = do_POST = do_PUT = do_HEAD = do_DELETE = do_PATCH = _handle

            def log_message(self, format: str, *args: object) -> None:
                return  # the scan's request log is the record, not stderr

        self._server = ThreadingHTTPServer((host, port), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def start(self) -> Canary:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> Canary:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def url(
        self, label: str = "x", *, answer: tuple[int, bytes, str] | None = None
    ) -> tuple[str, str]:
        """A fresh ``(token, url)``; ``answer`` is (status, body, content type) to serve there."""
        token = secrets.token_hex(8)
        if answer is not None:
            self._answers[token] = answer
        return token, f"{self.base_url}/c/{token}/{label}"

    def _record(
        self, method: str, path: str, headers: dict[str, str], body: bytes, client: str
    ) -> None:
        with self._lock:
            if len(self._hits) < _MAX_HITS:
                self._hits.append(CanaryHit(method, path, headers, body, client, time.time()))

    def hits(self, token: str) -> list[CanaryHit]:
        with self._lock:
            return [h for h in self._hits if h.path.startswith(f"/c/{token}/")]

    async def wait(self, token: str, timeout: float = 2.0) -> list[CanaryHit]:
        """Hits for ``token``, waiting up to ``timeout`` seconds for the first one."""
        deadline = time.monotonic() + timeout
        while True:
            found = self.hits(token)
            if found or time.monotonic() >= deadline:
                return found
            await asyncio.sleep(0.05)
