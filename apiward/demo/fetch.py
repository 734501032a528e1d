"""Server-side HTTP fetches (avatar import, partner feed): http(s) only, bounded, no proxies."""

from __future__ import annotations

import urllib.error
import urllib.parse
import urllib.request

from starlette.concurrency import run_in_threadpool

from apiward.core.source import is_loopback_host
from apiward.demo.http import ApiError

MAX_FETCH_BYTES = 1024 * 1024
TIMEOUT = 3.0


def on_this_machine(url: str) -> bool:
    """Whether ``url`` names a loopback host literally (checked before any DNS lookup).

    Even the vulnerable demo fetches only from this machine: fuzzers and scanners
    hand it arbitrary URLs, and its SSRF must never send traffic anywhere else.
    """
    return is_loopback_host(urllib.parse.urlsplit(url).hostname or "")


class _LoopbackRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, req, fp, code, msg, headers, newurl):  # type: ignore[no-untyped-def]
        if not on_this_machine(newurl):
            raise urllib.error.URLError("the demo only fetches from this machine (127.0.0.1)")
        return super().redirect_request(req, fp, code, msg, headers, newurl)


def _opener() -> urllib.request.OpenerDirector:
    # built by hand so that file://, ftp:// and environment proxies are not in it
    opener = urllib.request.OpenerDirector()
    for handler in (
        urllib.request.ProxyHandler({}),
        urllib.request.HTTPHandler(),
        urllib.request.HTTPSHandler(),
        _LoopbackRedirects(),
        urllib.request.HTTPErrorProcessor(),
        urllib.request.HTTPDefaultErrorHandler(),
    ):
        opener.add_handler(handler)
    return opener


def _get(url: str) -> tuple[bytes, str]:
    if not on_this_machine(url):
        raise urllib.error.URLError("the demo only fetches from this machine (127.0.0.1)")
    with _opener().open(url, timeout=TIMEOUT) as resp:
        body: bytes = resp.read(MAX_FETCH_BYTES + 1)
        content_type: str = resp.headers.get("content-type", "application/octet-stream")
    if len(body) > MAX_FETCH_BYTES:
        raise ApiError(502, f"the resource is over {MAX_FETCH_BYTES:,} bytes")
    return body, content_type


async def fetch(url: str, *, verbose_errors: bool) -> tuple[bytes, str]:
    """GET ``url``: (body, content type). Failures are a 502; verbose ones name the cause."""
    if urllib.parse.urlsplit(url).scheme not in ("http", "https"):
        raise ApiError(400, "only http and https URLs can be fetched")
    try:
        return await run_in_threadpool(_get, url)
    except (urllib.error.URLError, OSError, ValueError) as exc:
        # the verbose message turns a blind SSRF into a port scanner
        detail = f"could not fetch {url}: {exc}" if verbose_errors else "could not fetch the URL"
        raise ApiError(502, detail) from None


def host_allowed(url: str, hosts: frozenset[str]) -> bool:
    """https, no credentials, no explicit port, host in the allow-list."""
    parts = urllib.parse.urlsplit(url)
    return (
        parts.scheme == "https"
        and parts.username is None
        and parts.port is None
        and (parts.hostname or "") in hosts
    )
