"""Running the demo: :func:`serve` in a background thread (tests, scans), :func:`run` in front."""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Iterator

import uvicorn
from starlette.types import ASGIApp

from apiward.demo.app import create_app
from apiward.demo.settings import Settings
from apiward.errors import UsageError

STARTUP_TIMEOUT = 10.0


def _config(app: ASGIApp, log_level: str) -> uvicorn.Config:
    return uvicorn.Config(
        app,
        log_level=log_level,
        access_log=log_level in ("debug", "info"),
        # the app sets (or withholds) its own Server header, per mode
        server_header=False,
        # the peer is the client: X-Forwarded-For from loopback is not believed (uvicorn's
        # default), so that what sits in front (a gateway in tests) decides about it
        proxy_headers=False,
        lifespan="off",
    )


@contextlib.contextmanager
def serve(
    secure: bool = False,
    host: str = "127.0.0.1",
    port: int = 0,
    *,
    settings: Settings | None = None,
    log_level: str = "warning",
    allow_remote: bool = False,
) -> Iterator[str]:
    """Serve a fresh demo instance in a background thread; yields its base URL.

    ``port=0`` takes a free port. The socket is bound before the thread starts, so
    the URL is connectable as soon as it is yielded; the server stops on exit.
    The vulnerable mode refuses a non-loopback ``host`` unless ``allow_remote``.
    """
    _check_host(secure, host, allow_remote)
    app = create_app(secure, settings=settings)
    with serve_app(app, host, port, log_level=log_level) as url:
        yield url


@contextlib.contextmanager
def serve_app(
    app: ASGIApp, host: str = "127.0.0.1", port: int = 0, *, log_level: str = "warning"
) -> Iterator[str]:
    """Serve any ASGI app like :func:`serve` does (handy for small apps in tests)."""
    sock = _bind(host, port)
    server = uvicorn.Server(_config(app, log_level))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + STARTUP_TIMEOUT
        while not server.started:
            if not thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("the server did not start")
            time.sleep(0.01)
        bound_host, bound_port = sock.getsockname()[:2]
        yield f"http://{_url_host(bound_host)}:{bound_port}"
    finally:
        server.should_exit = True
        thread.join(timeout=5)
        sock.close()


def run(
    secure: bool = False,
    host: str = "127.0.0.1",
    port: int = 8000,
    *,
    settings: Settings | None = None,
    log_level: str = "info",
    allow_remote: bool = False,
) -> None:
    """Serve in the foreground until interrupted (Ctrl-C); same host rule as :func:`serve`."""
    _check_host(secure, host, allow_remote)
    sock = _bind(host, port)
    try:
        uvicorn.Server(_config(create_app(secure, settings=settings), log_level)).run(
            sockets=[sock]
        )
    finally:
        sock.close()


def _check_host(secure: bool, host: str, allow_remote: bool) -> None:
    bare = host.strip("[]")
    if secure or allow_remote or bare in ("localhost", "::1") or bare.startswith("127."):
        return
    raise UsageError(
        f"refusing to serve the deliberately vulnerable demo on {host}: it would be open to "
        "anyone who can reach this machine. Use 127.0.0.1, or allow it explicitly."
    )


def _bind(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host.strip("[]"), port))
    except OSError as exc:
        sock.close()
        raise UsageError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None
    sock.listen(128)
    sock.set_inheritable(True)
    return sock


def _url_host(host: str) -> str:
    return f"[{host}]" if ":" in host else host
