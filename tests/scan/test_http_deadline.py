"""A server that dribbles its answer cannot hang the scan: every exchange has a deadline."""

from __future__ import annotations

import asyncio
import socket
import threading
import time

from apiward.scan.http import ScanClient


def dribbling_server(stop: threading.Event) -> tuple[socket.socket, threading.Thread]:
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)
    listener.settimeout(5)

    def serve() -> None:
        conn, _ = listener.accept()
        conn.recv(65536)
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n")
        while not stop.is_set():  # one byte every 0.2 s: each read is quick, the whole is not
            try:
                conn.sendall(b"x")
            except OSError:
                break
            time.sleep(0.2)
        conn.close()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    return listener, thread


def test_a_dribbling_answer_ends_at_the_deadline() -> None:
    stop = threading.Event()
    listener, thread = dribbling_server(stop)
    port = listener.getsockname()[1]

    async def go() -> tuple[int, str | None, float]:
        client = ScanClient(f"http://127.0.0.1:{port}", timeout=0.5)
        started = time.monotonic()
        answer = await client.send("GET", "/")
        await client.aclose()
        return answer.status, answer.error, time.monotonic() - started

    try:
        status, error, took = asyncio.run(go())
    finally:
        stop.set()
        thread.join(timeout=5)
        listener.close()
    assert status == 0 and error is not None and "no full answer" in error
    assert took < 5, "the deadline (twice the timeout) ended it, not the server"
