"""Client timeouts on a real uvicorn server: Slowloris, a silent connection, a stalled body."""

from __future__ import annotations

import asyncio
import contextlib
import socket
import threading
import time
from collections.abc import Iterator

import pytest
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from apiward.gateway.protocol import GuardedHttpToolsProtocol, guarded

TIMEOUT = 0.4  # small, so the tests are quick; "closed" is waited for up to WAIT
WAIT = 10.0
PATIENT = 5.0  # for the clients that must be served: far above their pauses, even on a busy box
SLOW = 4 * TIMEOUT  # how long /slow waits: several timeouts of the quick server
CUT_OFF: list[str] = []  # what the servers reported through on_timeout


async def _echo(request: Request) -> Response:
    body = await request.body()
    return JSONResponse({"size": len(body)})


async def _slow(request: Request) -> Response:
    """Takes a while before it reads the body (think: a slow auth check)."""
    await asyncio.sleep(SLOW)
    body = await request.body()
    return JSONResponse({"size": len(body)})


@pytest.fixture(scope="module")
def server() -> Iterator[tuple[str, int]]:
    with _serve(TIMEOUT) as address:
        yield address


@pytest.fixture(scope="module")
def patient_server() -> Iterator[tuple[str, int]]:
    with _serve(PATIENT) as address:
        yield address


@pytest.fixture(scope="module")
def continue_server() -> Iterator[tuple[str, int]]:
    # /slow reads after SLOW, longer than this body timeout; the client then has at least
    # a whole second to send its body, plenty even on a busy machine
    with _serve(TIMEOUT, body_timeout=1.0) as address:
        yield address


@contextlib.contextmanager
def _serve(timeout: float, body_timeout: float | None = None) -> Iterator[tuple[str, int]]:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    protocol = guarded(
        GuardedHttpToolsProtocol,
        header_timeout=timeout,
        body_timeout=timeout if body_timeout is None else body_timeout,
        on_timeout=CUT_OFF.append,
    )
    config = uvicorn.Config(
        Starlette(
            routes=[
                Route("/echo", _echo, methods=["GET", "POST"]),
                Route("/slow", _slow, methods=["GET", "POST"]),
            ]
        ),
        http=protocol,
        log_level="warning",
        lifespan="off",
    )
    srv = uvicorn.Server(config)
    thread = threading.Thread(target=srv.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not srv.started and time.monotonic() < deadline:
        time.sleep(0.01)
    yield sock.getsockname()[:2]
    srv.should_exit = True
    thread.join(5)
    sock.close()


def _until_closed(conn: socket.socket) -> bytes:
    """Everything the server sends until it closes the connection (or WAIT passes)."""
    conn.settimeout(WAIT)
    out = b""
    while True:
        try:
            data = conn.recv(65536)
        except TimeoutError:
            raise AssertionError(f"still open after {WAIT} s; got {out!r}") from None
        if not data:
            return out
        out += data


def test_headers_that_never_finish_get_408_and_a_closed_connection(
    server: tuple[str, int],
) -> None:
    before = CUT_OFF.count("header")
    with socket.create_connection(server) as conn:
        conn.sendall(b"GET /echo HTTP/1.1\r\nHost: t\r\nX-Slow: ")  # and then nothing
        answer = _until_closed(conn)
    assert answer.startswith(b"HTTP/1.1 408 Request Timeout")
    assert CUT_OFF.count("header") > before  # reported, for the metrics
    assert b'"request_timeout"' in answer


def test_a_connection_that_sends_nothing_is_closed(server: tuple[str, int]) -> None:
    with socket.create_connection(server) as conn:
        assert _until_closed(conn).startswith(b"HTTP/1.1 408")


def test_a_body_that_stops_half_way_closes_the_connection(server: tuple[str, int]) -> None:
    before = CUT_OFF.count("body")
    with socket.create_connection(server) as conn:
        conn.sendall(b"POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 10\r\n\r\nabc")
        assert _until_closed(conn) == b""  # the app saw the client leave; nothing to say
    assert CUT_OFF.count("body") > before


def test_a_slow_but_steady_client_is_served_and_may_keep_the_connection(
    patient_server: tuple[str, int],
) -> None:
    with socket.create_connection(patient_server) as conn:
        conn.settimeout(WAIT)
        conn.sendall(b"POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 6\r\n\r\n")
        for piece in (b"ab", b"cd", b"ef"):
            time.sleep(0.2)  # pauses well under the body timeout
            conn.sendall(piece)
        first = conn.recv(65536)
        assert first.startswith(b"HTTP/1.1 200") and first.endswith(b'{"size":6}')
        # a second request on the same connection, its headers split but prompt
        conn.sendall(b"GET /echo HTTP/1.1\r\n")
        time.sleep(0.2)
        conn.sendall(b"Host: t\r\n\r\n")
        second = conn.recv(65536)
        assert second.startswith(b"HTTP/1.1 200") and second.endswith(b'{"size":0}')


def test_crlfs_between_requests_do_not_keep_a_connection_open(server: tuple[str, int]) -> None:
    with socket.create_connection(server) as conn:
        conn.settimeout(WAIT)
        conn.sendall(b"GET /echo HTTP/1.1\r\nHost: t\r\n\r\n")
        assert conn.recv(65536).startswith(b"HTTP/1.1 200")
        conn.settimeout(0.1)
        deadline = time.monotonic() + WAIT
        closed = False
        while time.monotonic() < deadline and not closed:
            try:
                conn.sendall(b"\r\n")  # the parser skips these before a request
                closed = conn.recv(65536).startswith(b"HTTP/1.1 408") or True
            except TimeoutError:
                continue
            except OSError:
                closed = True
    assert closed, f"still open after {WAIT} s of CRLFs"


def test_a_pipelined_request_waits_for_the_response_before_it(server: tuple[str, int]) -> None:
    with socket.create_connection(server) as conn:
        conn.sendall(
            b"GET /slow HTTP/1.1\r\nHost: t\r\n\r\n"
            b"GET /echo HTTP/1.1\r\nHost: t\r\n\r\n"
            b"GET /echo HTTP/1.1\r\n"
        )
        time.sleep(TIMEOUT / 4)
        conn.sendall(b"Host: t\r\nConnection: close\r\n\r\n")
        answers = _until_closed(conn)
    assert answers.count(b"HTTP/1.1 200") == 3 and b"408" not in answers


def test_a_client_waiting_for_100_continue_is_not_cut_off(
    continue_server: tuple[str, int],
) -> None:
    with socket.create_connection(continue_server) as conn:
        conn.settimeout(WAIT)
        conn.sendall(
            b"POST /slow HTTP/1.1\r\nHost: t\r\nExpect: 100-continue\r\n"
            b"Content-Length: 3\r\nConnection: close\r\n\r\n"
        )
        assert conn.recv(65536).startswith(b"HTTP/1.1 100 Continue")  # after the app's wait
        conn.sendall(b"abc")
        answer = _until_closed(conn)
    assert answer.startswith(b"HTTP/1.1 200") and answer.endswith(b'{"size":3}')
