"""The scanner's HTTP side: one client with a budget, a concurrency cap and a request log.

Every request goes through :meth:`ScanClient.send` and comes back as an
:class:`Exchange`, a frozen snapshot of the request and of the first
``MAX_BODY`` bytes of the answer: checks compare exchanges, findings carry
them as evidence, and the request log writes them as NDJSON lines. Secrets the
scanner holds (identity tokens, passwords) are registered with the client and
never written out: logs and evidence show them masked, and the reproducing
``curl`` names an environment variable in their place.
"""

from __future__ import annotations

import asyncio
import json
import re
import shlex
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import IO, Any
from urllib.parse import urlencode, urlsplit

import httpx

from apiward.core import Evidence
from apiward.errors import ApiwardError
from apiward.scan.detect import mask

__all__ = ["MAX_BODY", "BudgetExhausted", "Exchange", "ScanClient", "Secrets", "no_answer"]

#: Bytes of an answer kept: enough for any JSON object a check reads, bounded for memory.
MAX_BODY = 1024 * 1024
_EXCERPT = 2000
_UNSET: Any = object()


class BudgetExhausted(ApiwardError):
    """The scan sent as many requests as its budget allows."""


class Secrets:
    """Values to hide (tokens, passwords) and the placeholder each is shown as."""

    def __init__(self) -> None:
        self._values: dict[str, str] = {}

    def add(self, value: str | None, placeholder: str) -> None:
        # short values would mask ordinary words all over the evidence
        if value and len(value) >= 6:
            self._values[value] = placeholder

    def hide(self, text: str, *, as_variables: bool = False) -> str:
        for value in sorted(self._values, key=len, reverse=True):
            if value in text:
                name = self._values[value]
                text = text.replace(value, f"${{{name}}}" if as_variables else f"[{name}]")
        return text


@dataclass(frozen=True, slots=True)
class Exchange:
    """One request and its answer (or the transport error that replaced it)."""

    method: str
    url: str
    request_headers: tuple[tuple[str, str], ...]
    request_body: bytes | None
    status: int  # 0 when there was no answer
    headers: httpx.Headers
    body: bytes
    elapsed: float
    identity: str | None = None
    operation: str | None = None
    error: str | None = None
    truncated: bool = False
    _secrets: Secrets | None = field(default=None, repr=False, compare=False)

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300

    @property
    def path(self) -> str:
        return urlsplit(self.url).path

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", "replace")

    @property
    def content_type(self) -> str:
        value: str = self.headers.get("content-type", "")
        return value.split(";")[0].strip().lower()

    def json(self) -> Any:
        """The answer as JSON, or None when it is not JSON."""
        if not self.body or ("json" not in self.content_type and self.body[:1] not in b"[{"):
            return None
        try:
            return json.loads(self.body)
        except ValueError:
            return None

    def hide(self, text: str, *, as_variables: bool = False) -> str:
        """``text`` without the scan's secrets; outside a ``curl`` also without any value
        that looks secret (a token in a login answer, a key in a debug page)."""
        if self._secrets is not None:
            text = self._secrets.hide(text, as_variables=as_variables)
        return text if as_variables else mask(text)

    def request_text(self, limit: int = _EXCERPT) -> str:
        """The request as HTTP/1.1 text, secrets masked, body cut at ``limit`` characters."""
        split = urlsplit(self.url)
        target = split.path + (f"?{split.query}" if split.query else "")
        lines = [f"{self.method} {target} HTTP/1.1", f"Host: {split.netloc}"]
        lines += [f"{k}: {v}" for k, v in self.request_headers if k.lower() != "host"]
        body = (self.request_body or b"").decode("utf-8", "replace")
        text = "\n".join(lines) + ("\n\n" + _cut(body, limit) if body else "")
        return self.hide(text)

    def response_text(self, limit: int = _EXCERPT) -> str:
        """The answer as HTTP/1.1 text, secrets masked, body cut at ``limit`` characters."""
        if self.status == 0:
            return f"(no answer: {self.error})"
        lines = [f"HTTP/1.1 {self.status}"] + [f"{k}: {v}" for k, v in self.headers.items()]
        return self.hide("\n".join(lines) + "\n\n" + _cut(self.text, limit))

    def evidence(self, note: str | None = None) -> Evidence:
        return Evidence(request=self.request_text(), response=self.response_text(), note=note)

    def curl(self) -> str:
        """A ``curl`` command that sends this request again; identity secrets as ``${VARS}``.

        A body too long to print (a 1 MiB string, say) is rebuilt by a ``python3 -c``
        expression piped into curl, so the command still reproduces the request.
        """
        parts = ["curl", "-i", "-X", self.method, self.url]
        for name, value in self.request_headers:
            if name.lower() in _CURL_SKIP or (name.lower(), value) in _CURL_DEFAULTS:
                continue
            parts += ["-H", f"{name}: {value}"]
        prefix = ""
        if self.request_body:
            body = self.request_body.decode("utf-8", "replace")
            if len(body) <= _CURL_BODY:
                parts += ["--data-binary", body]
            else:
                expr = _python_expression(body)
                if len(expr) <= _CURL_BODY:
                    program = f"import sys; sys.stdout.write({expr})"
                    prefix = f"python3 -c {shlex.quote(program)} | "
                    parts += ["--data-binary", "@-"]
                else:
                    parts += ["--data-binary", body[:_CURL_BODY] + "…(cut)"]
        return prefix + " ".join(_quote(self.hide(p, as_variables=True)) for p in parts)

    def log_line(self) -> dict[str, Any]:
        """The NDJSON request-log record: secrets masked, bodies cut."""
        return {
            "time": round(time.time(), 3),
            "identity": self.identity,
            "operation": self.operation,
            "method": self.method,
            "url": self.hide(self.url),
            "request_headers": {k: self.hide(v) for k, v in self.request_headers},
            "request_body": self.hide(
                _cut((self.request_body or b"").decode("utf-8", "replace"), 4000)
            ),
            "status": self.status,
            "response_headers": {k: self.hide(v) for k, v in self.headers.items()},
            "response_body": self.hide(_cut(self.text, 4000)),
            "elapsed_ms": round(self.elapsed * 1000, 1),
            "error": self.error,
        }


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else f"{text[:limit]}…({len(text) - limit} more characters)"


_CURL_SKIP = frozenset({"content-length", "host", "user-agent", "accept-encoding"})
_CURL_DEFAULTS = frozenset({("accept", "*/*"), ("connection", "keep-alive")})
_CURL_BODY = 4000
_PLACEHOLDER = re.compile(r"\\\$\{([A-Z0-9_]+)\}")
_RUN = re.compile(r"(.)\1{63,}", re.S)


def _quote(part: str) -> str:
    """Shell-quote ``part``; ``${VAR}`` placeholders of secrets stay expandable."""
    if "${" not in part:
        return shlex.quote(part)
    escaped = re.sub(r'([\\"`$])', r"\\\1", part)
    return '"' + _PLACEHOLDER.sub(r"${\1}", escaped) + '"'


def _python_expression(text: str) -> str:
    """``text`` as a short Python expression: runs of one character become ``'A' * n``."""
    pieces: list[str] = []
    at = 0
    for run in _RUN.finditer(text):
        if run.start() > at:
            pieces.append(repr(text[at : run.start()]))
        pieces.append(f"{run.group(1)!r} * {len(run.group(0))}")
        at = run.end()
    if at < len(text):
        pieces.append(repr(text[at:]))
    return " + ".join(pieces) or "''"


class ScanClient:
    """Sends requests for the checks: at most ``concurrency`` at once and ``budget`` in all."""

    def __init__(
        self,
        base_url: str,
        *,
        budget: int = 5000,
        concurrency: int = 8,
        timeout: float = 10.0,
        rate: float | None = None,
        log: IO[str] | None = None,
        secrets: Secrets | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.budget = budget
        self.sent = 0
        self.secrets = secrets or Secrets()
        self._slots = asyncio.Semaphore(concurrency)
        self._gap = 1.0 / rate if rate else 0.0
        self._timeout = timeout
        self._next_start = 0.0
        self._log = log
        self._client = httpx.AsyncClient(
            timeout=timeout,
            follow_redirects=False,
            trust_env=False,  # never route a scan through a proxy named in the environment
            headers={"User-Agent": "apiward-scan"},
            limits=httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency),
            transport=transport,
        )

    @property
    def remaining(self) -> int:
        return max(0, self.budget - self.sent)

    async def aclose(self) -> None:
        await self._client.aclose()

    def url(self, path: str) -> str:
        return path if path.startswith(("http://", "https://")) else self.base_url + path

    async def send(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
        cookies: Mapping[str, str] | None = None,
        json_body: Any = _UNSET,
        content: bytes | str | None = None,
        identity: str | None = None,
        operation: str | None = None,
        timeout: float | None = None,
    ) -> Exchange:
        """Send one request. Raises :class:`BudgetExhausted` when the budget is spent."""
        if self.sent >= self.budget:
            raise BudgetExhausted(f"the request budget ({self.budget}) is spent")
        self.sent += 1
        url = self.url(path)
        if params:
            url += ("&" if "?" in url else "?") + urlencode(_flat(params), doseq=True)
        send_headers = dict(headers or {})
        if cookies:
            send_headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in cookies.items())
        body: bytes | None
        if json_body is not _UNSET:
            body = json.dumps(json_body).encode()
            send_headers.setdefault("Content-Type", "application/json")
        else:
            body = content.encode() if isinstance(content, str) else content
        async with self._slots:
            await self._pace()
            exchange = await self._exchange(method, url, send_headers, body, timeout)
        exchange = _with(exchange, identity=identity, operation=operation, secrets=self.secrets)
        if self._log is not None:
            self._log.write(json.dumps(exchange.log_line()) + "\n")
        return exchange

    async def _pace(self) -> None:
        if not self._gap:
            return
        now = time.monotonic()
        start = max(now, self._next_start)
        self._next_start = start + self._gap
        if start > now:
            await asyncio.sleep(start - now)

    async def _exchange(
        self,
        method: str,
        url: str,
        headers: dict[str, str],
        body: bytes | None,
        timeout: float | None,
    ) -> Exchange:
        started = time.perf_counter()
        try:
            request = self._client.build_request(
                method, url, headers=headers, content=body,
                timeout=timeout or httpx.USE_CLIENT_DEFAULT,
            )  # fmt: skip
        except (UnicodeEncodeError, ValueError, TypeError) as exc:
            # a header value HTTP cannot carry (non-Latin-1 text, a newline)
            return no_answer(method, url, (), body, started, f"cannot send this request: {exc}")
        sent_headers = tuple(
            (k, v) for k, v in request.headers.items() if k.lower() not in ("accept-encoding",)
        )
        # httpx's timeout bounds each read; a server dribbling a byte a second would
        # never trip it, so the whole exchange gets a deadline of its own as well
        deadline = (timeout or self._timeout) * 2
        try:
            async with asyncio.timeout(deadline):
                response = await self._client.send(request, stream=True)
                try:
                    data, truncated = await _read(response)
                finally:
                    await response.aclose()
        except TimeoutError:
            return no_answer(
                method, url, sent_headers, body, started, f"no full answer in {deadline:g}s"
            )
        except httpx.HTTPError as exc:
            detail = str(exc) or "the connection was closed"
            return no_answer(
                method, url, sent_headers, body, started, f"{type(exc).__name__}: {detail}"
            )
        return Exchange(
            method, url, sent_headers, body, response.status_code, response.headers, data,
            time.perf_counter() - started, truncated=truncated,
        )  # fmt: skip


def no_answer(
    method: str,
    url: str,
    headers: tuple[tuple[str, str], ...],
    body: bytes | None,
    started: float,
    error: str,
) -> Exchange:
    return Exchange(
        method, url, headers, body, 0, httpx.Headers(), b"", time.perf_counter() - started,
        error=error,
    )  # fmt: skip


async def _read(response: httpx.Response) -> tuple[bytes, bool]:
    chunks: list[bytes] = []
    size = 0
    async for chunk in response.aiter_bytes():
        chunks.append(chunk)
        size += len(chunk)
        if size >= MAX_BODY:
            return b"".join(chunks)[:MAX_BODY], True
    return b"".join(chunks), False


def _flat(params: Mapping[str, Any]) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    for key, value in params.items():
        values = value if isinstance(value, list | tuple) else [value]
        for v in values:
            if isinstance(v, bool):
                v = "true" if v else "false"
            elif isinstance(v, dict):
                v = json.dumps(v)
            out.append((key, str(v)))
    return out


def _with(exchange: Exchange, **changes: Any) -> Exchange:
    secrets = changes.pop("secrets")
    fields = {name: getattr(exchange, name) for name in Exchange.__dataclass_fields__}
    fields.update(changes)
    fields["_secrets"] = secrets
    return Exchange(**fields)
