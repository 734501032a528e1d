"""``apiward gateway``: the gateway and its admin API served by uvicorn in one event loop.

uvicorn runs with uvloop and httptools (``../shared/PERF.md``: the fastest pair measured
here next to granian, and it lets two listeners share one loop), through
:mod:`~apiward.gateway.protocol` (client header and body timeouts). The traffic listener
serves :class:`~apiward.gateway.app.Gateway` (TLS, and mutual TLS through
:class:`~apiward.gateway.tls.TlsHttpToolsProtocol`, when configured); the admin listener
serves :func:`~apiward.gateway.admin.admin_app`.

Signals (installed on the loop, not by uvicorn, so that both servers obey them):

- ``SIGTERM``/``SIGINT``: stop accepting, let requests in flight finish (up to
  ``drain-timeout``), then close the gateway: the audit log is flushed (or spooled to disk);
- ``SIGHUP``: reload the config file (as ``POST /reload`` does); a bad file is reported
  and the running config stays.

The config file is also watched (its mtime, every ``watch_interval`` seconds) and
reloaded when it changes.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import os
import signal
import sys
from collections.abc import Callable
from typing import Any

import uvicorn

from apiward.config.gateway import GatewaySection, parse_listen
from apiward.gateway.admin import admin_app
from apiward.gateway.app import Gateway
from apiward.gateway.logs import configure_logging, get_logger
from apiward.gateway.protocol import GuardedHttpToolsProtocol, guarded
from apiward.gateway.tls import TlsHttpToolsProtocol, server_ssl_config

__all__ = ["configure", "serve", "serve_async", "server_configs"]

log = get_logger("apiward.gateway.server")


def _loop() -> str:
    try:
        import uvloop  # noqa: F401
    except ImportError:  # Windows: asyncio's own loop
        return "asyncio"
    return "uvloop"


def server_configs(gateway: Gateway) -> tuple[uvicorn.Config, uvicorn.Config]:
    """uvicorn configs for the traffic and admin listeners of ``gateway``."""
    section = gateway.section
    host, port = parse_listen(section.listen)
    tls: dict[str, Any] = {}
    base: type[GuardedHttpToolsProtocol] = GuardedHttpToolsProtocol
    if section.tls is not None:
        t = section.tls
        tls = server_ssl_config(t.cert, t.key, t.client_ca, t.require_client_cert)
        base = TlsHttpToolsProtocol
    http = guarded(
        base,
        header_timeout=section.client_header_timeout,
        body_timeout=section.client_body_timeout,
        on_timeout=gateway.metrics.client_timeout,
    )
    main = uvicorn.Config(
        gateway,
        host=host,
        port=port,
        loop=_loop(),
        http=http,
        lifespan="on",
        log_config=None,
        access_log=False,
        server_header=False,  # the gateway does not advertise what it runs
        date_header=False,  # the upstream's Date passes through; two would confuse clients
        proxy_headers=False,  # the client IP is decided by the gateway's trusted proxies
        timeout_graceful_shutdown=int(section.drain_timeout) or 1,
        backlog=2048,
        **tls,
    )
    admin_host, admin_port = parse_listen(section.admin.listen)
    admin = uvicorn.Config(
        admin_app(gateway),
        host=admin_host,
        port=admin_port,
        loop=_loop(),
        http=guarded(
            GuardedHttpToolsProtocol,
            header_timeout=section.client_header_timeout,
            body_timeout=section.client_body_timeout,
        ),
        lifespan="off",
        log_config=None,
        access_log=False,
        server_header=False,
        proxy_headers=False,
    )
    return main, admin


async def serve_async(
    gateway: Gateway,
    *,
    config_path: str | None = None,
    watch_interval: float = 2.0,
    on_ready: Callable[[list[tuple[str, int]]], None] | None = None,
) -> int:
    """Serve until a stop signal; 0 on a clean stop, 1 when a listener could not start."""
    main_cfg, admin_cfg = server_configs(gateway)
    servers = [uvicorn.Server(main_cfg), uvicorn.Server(admin_cfg)]
    loop = asyncio.get_running_loop()
    stopping = asyncio.Event()

    def stop() -> None:
        stopping.set()
        for s in servers:
            s.should_exit = True

    pending: set[asyncio.Task[Any]] = set()

    def reload() -> None:
        task = loop.create_task(gateway.reload())
        pending.add(task)  # the loop keeps only a weak reference
        task.add_done_callback(pending.discard)

    installed = []
    for sig, handler in ((signal.SIGTERM, stop), (signal.SIGINT, stop), (signal.SIGHUP, reload)):
        with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
            loop.add_signal_handler(sig, handler)
            installed.append(sig)
    watcher = (
        loop.create_task(_watch(config_path, gateway, watch_interval, stopping))
        if config_path
        else None
    )
    try:
        for s in servers:
            s.config.load()
            s.lifespan = s.config.lifespan_class(s.config)
            await s.startup()
            if s.should_exit:  # the port was taken, or the lifespan startup failed
                log.error("listener_failed", listen=f"{s.config.host}:{s.config.port}")
                stop()
                for other in servers:
                    if other.started:
                        await other.shutdown()
                return 1
        # latency at the tail: the objects built so far (specs, compiled schemas, policies)
        # live as long as the process, so the collector need not walk them again and again
        gc.collect()
        gc.freeze()
        bound = [_bound(s) for s in servers]
        log.info("listening", traffic=_text(bound[0]), admin=_text(bound[1]))
        if on_ready is not None:
            on_ready(bound)
        await asyncio.gather(*(s.main_loop() for s in servers))
        # the admin listener last: /metrics stays up while traffic drains
        for s in servers:
            await s.shutdown()
        return 0
    finally:
        if watcher is not None:
            watcher.cancel()
        for sig in installed:
            loop.remove_signal_handler(sig)


def serve(gateway: Gateway, *, config_path: str | None = None) -> int:
    """Run :func:`serve_async` in a new event loop (uvloop when available)."""
    # the audit writer's thread holds the GIL while binding a batch; the default 5 ms
    # switch interval would show up as 5 ms stalls of the event loop at the tail
    sys.setswitchinterval(0.0005)
    if _loop() == "uvloop":
        import uvloop

        return uvloop.run(serve_async(gateway, config_path=config_path))
    return asyncio.run(serve_async(gateway, config_path=config_path))


async def _watch(path: str, gateway: Gateway, interval: float, stopping: asyncio.Event) -> None:
    def mtime() -> int:
        try:
            return os.stat(path).st_mtime_ns
        except OSError:
            return 0

    seen = mtime()
    while not stopping.is_set():
        await asyncio.sleep(interval)
        now = mtime()
        if now and now != seen:
            seen = now
            await gateway.reload()


def _bound(server: uvicorn.Server) -> tuple[str, int]:
    for srv in getattr(server, "servers", []):
        for sock in srv.sockets:
            host, port = sock.getsockname()[:2]
            return str(host), int(port)
    return server.config.host, server.config.port


def _text(addr: tuple[str, int]) -> str:
    host, port = addr
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def configure(section: GatewaySection) -> None:
    """Apply the ``logs:`` settings (structured JSON on stderr by default)."""
    logs = section.logs
    configure_logging(json=logs.format == "json", level=logs.level, access=logs.access_log)
