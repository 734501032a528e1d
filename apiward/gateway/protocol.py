"""uvicorn's HTTP protocol with client timeouts: slow clients cannot hold connections forever.

uvicorn bounds only the idle time *between* requests (keep-alive). A client that opens a
connection and sends nothing, or sends a request's headers a byte at a time (Slowloris),
or stops half-way through a body, would keep its connection, and eventually the
process's file descriptors, forever. As nginx's ``client_header_timeout`` and
``client_body_timeout`` do:

- ``header_timeout``: from the connection's start, or a request's first byte (CRLFs
  before it included), until its headers are complete; time while an earlier response
  on the connection is still being made does not count (pipelining). Exceeded:
  ``408 Request Timeout`` and the connection closed;
- ``body_timeout``: the longest pause between two reads of a request body. Exceeded: the
  connection is closed (the app sees the client leave). Time while uvicorn itself holds
  reading back (the app not reading fast enough), or while the client waits for
  ``100 Continue``, does not count.

Not bounded: a body trickling in just under ``body_timeout`` per byte, and the TLS
handshake (the event loop's own 60 s limit).

Relies on these points of ``HttpToolsProtocol`` (read in uvicorn 0.54.0):
``connection_made``, ``data_received``, the parser callbacks ``on_headers_complete``
and ``on_message_complete``, ``self.flow.read_paused``, ``self.pipeline``,
``self.cycle`` and its ``waiting_for_100_continue``. :func:`guarded` makes the class
uvicorn instantiates.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

__all__ = ["GuardedHttpToolsProtocol", "guarded"]

_TIMEOUT_RESPONSE = (
    b"HTTP/1.1 408 Request Timeout\r\ncontent-type: application/json\r\n"
    b"connection: close\r\ncontent-length: 41\r\n\r\n"
    b'{"error":"request_timeout","status":408}\n'
)


class GuardedHttpToolsProtocol(HttpToolsProtocol):
    """``HttpToolsProtocol`` plus a header timeout and a body idle timeout (see module)."""

    header_timeout: float = 10.0
    body_timeout: float = 30.0
    # told of each cut-off ("header" or "body"), for metrics; must not raise
    on_timeout: Callable[[str], None] | None = None
    _guard: asyncio.TimerHandle | None = None
    _in_body = False
    _continued = False  # the last body check saw the client waiting for 100 Continue

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm(self.header_timeout, self._headers_late)

    def data_received(self, data: bytes) -> None:
        if self._in_body:
            self._arm(self.body_timeout, self._body_late)
        elif self._guard is None:
            # the first bytes of a next request, or CRLFs the parser skips before one (it
            # never calls on_message_begin for those, and uvicorn has just cancelled its
            # keep-alive timer): either way the headers are due within header_timeout
            self._arm(self.header_timeout, self._headers_late)
        super().data_received(data)

    def on_headers_complete(self) -> None:
        self._disarm()
        super().on_headers_complete()
        parser: Any = self.parser
        if parser is not None and not parser.should_upgrade() and self._has_body():
            self._in_body = True
            self._arm(self.body_timeout, self._body_late)

    def on_message_complete(self) -> None:
        self._in_body = self._continued = False
        self._disarm()
        super().on_message_complete()

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)

    # -- the timers ------------------------------------------------------------------------

    def _has_body(self) -> bool:
        for name, value in self.headers:
            if name == b"transfer-encoding" or (name == b"content-length" and value.strip(b"0 ")):
                return True
        return False

    def _arm(self, seconds: float, callback: Any) -> None:
        self._disarm()
        self._guard = self.loop.call_later(seconds, callback)

    def _disarm(self) -> None:
        if self._guard is not None:
            self._guard.cancel()
            self._guard = None

    def _headers_late(self) -> None:
        self._guard = None
        if self.transport.is_closing():
            return
        cycle = self.cycle
        busy = cycle is not None and not cycle.response_complete
        if busy or self.pipeline or self.flow.read_paused:
            # a response is still being made (pipelining): uvicorn reads the next
            # request only after it, so its headers cannot be late yet
            self._arm(self.header_timeout, self._headers_late)
            return
        self.transport.write(_TIMEOUT_RESPONSE)
        self.transport.close()
        self._report("header")

    def _body_late(self) -> None:
        self._guard = None
        if self.transport.is_closing() or not self._in_body:
            return
        cycle: Any = self.cycle
        waiting = cycle is not None and getattr(cycle, "waiting_for_100_continue", False)
        if self.flow.read_paused or waiting or self._continued:
            # we stopped reading, or the client waits for our "100 Continue" (sent when
            # the app first reads; it gets a whole period after it): not its delay
            self._continued = waiting
            self._arm(self.body_timeout, self._body_late)
            return
        self.transport.close()
        self._report("body")

    def _report(self, phase: str) -> None:
        hook = type(self).on_timeout  # a plain function on the class: no bound self
        if hook is not None:
            hook(phase)


def guarded(
    base: type[GuardedHttpToolsProtocol],
    *,
    header_timeout: float,
    body_timeout: float,
    on_timeout: Callable[[str], None] | None = None,
) -> type[GuardedHttpToolsProtocol]:
    """``base`` with these timeouts, for ``uvicorn.Config(http=...)``; ``on_timeout`` is
    told of each connection cut off (``"header"`` or ``"body"``)."""
    attributes: dict[str, Any] = {"header_timeout": header_timeout, "body_timeout": body_timeout}
    if on_timeout is not None:
        attributes["on_timeout"] = staticmethod(on_timeout)
    return type(base.__name__, (base,), attributes)
