"""The gateway's logs: structured JSON lines (structlog), one access line per request.

How the gateway uses it::

    configure_logging(json=True, level="info")    # once at start; again on reload (idempotent)
    log = get_logger("apiward.gateway.proxy")
    log.info("upstream down", api="payments", target="http://10.0.0.5:8080")
    access_log("payments", record)                 # per request, if access logs are on

Every line is one JSON object with ``timestamp`` (ISO 8601, UTC), ``level``, ``logger``
and ``event``; ``json=False`` renders the same events for a terminal instead. Standard
``logging`` records (the audit log's, uvicorn's) are rendered the same way by a handler
on the root logger, unless ``stdlib=False``.

Secrets: values under keys that look like credentials (``password``, ``token``,
``authorization``, ...) are replaced before rendering, and tracebacks never show local
variables. Access lines skip that step: they carry an :class:`AuditRecord`'s fields,
which hold no secret by construction.

:func:`access_log` is built once by :func:`configure_logging` for the chosen output
(in JSON, it writes the line directly: same keys, a third cheaper than the processor
chain); it writes nothing until then, when ``access=False`` or when ``level`` is above
``info``.
"""

from __future__ import annotations

import json as jsonlib
import logging
import sys
import time
from collections.abc import Callable, MutableMapping
from typing import IO, Any, TextIO, cast

import structlog
from structlog.typing import EventDict, FilteringBoundLogger, Processor, WrappedLogger

from apiward.errors import ConfigError
from apiward.gateway.auditlog_record import AuditRecord

__all__ = ["ACCESS_LOGGER", "LEVELS", "access_log", "configure_logging", "get_logger"]

ACCESS_LOGGER = "apiward.access"
LEVELS = {"debug": 10, "info": 20, "warning": 30, "error": 40, "critical": 50}
REDACTED = "**********"
_SECRET_WORDS = (
    "password",
    "passwd",
    "secret",
    "token",
    "authorization",
    "api_key",
    "apikey",
    "cookie",
    "credential",
    "private_key",
)
_KEEP = frozenset(("event", "level", "logger", "timestamp"))

_access: Callable[[str, AuditRecord], None] | None = None


class _CurrentStderr:
    """``sys.stderr``, looked up at each write rather than once at set-up."""

    def write(self, text: str) -> int:
        return sys.stderr.write(text)

    def flush(self) -> None:
        sys.stderr.flush()

    def isatty(self) -> bool:
        return sys.stderr.isatty()


_STDERR = _CurrentStderr()


class _Handler(logging.StreamHandler):  # type: ignore[type-arg]
    """The root handler :func:`configure_logging` installs (and replaces when called again)."""


class _NamedWriter(structlog.WriteLogger):
    """structlog's fastest output (one ``write`` per line), with a name for ``logger``."""

    def __init__(self, file: TextIO, name: str) -> None:
        super().__init__(file)
        self.name = name


class _WriterFactory:
    def __init__(self, file: TextIO) -> None:
        self.file = file

    def __call__(self, *args: Any) -> _NamedWriter:
        return _NamedWriter(self.file, str(args[0]) if args else "")


def _redact(_logger: WrappedLogger, _method: str, event: EventDict) -> EventDict:
    for key in event:
        if key not in _KEEP:
            low = key.lower()
            if any(word in low for word in _SECRET_WORDS):
                event[key] = REDACTED
    return event


# one encoder for every line: json.dumps with options builds a new encoder per call (~2x)
_encode = jsonlib.JSONEncoder(default=repr, separators=(",", ":")).encode


def _dumps(data: MutableMapping[str, Any], **kwargs: Any) -> str:
    return _encode(data)


class _Timestamp:
    """``timestamp``: ISO 8601 UTC with microseconds, as structlog's ``TimeStamper(fmt="iso",
    utc=True)`` writes it, at a fraction of its cost (the date part is formatted once a second)."""

    __slots__ = ("cached",)

    def __init__(self) -> None:
        # one attribute, read and replaced whole: stdlib records may come from other threads
        self.cached = (-1, "")

    def __call__(self, _logger: WrappedLogger, _method: str, event: EventDict) -> EventDict:
        now = time.time()
        second = int(now)
        cached_second, prefix = self.cached
        if second != cached_second:
            prefix = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(second))
            self.cached = (second, prefix)
        event["timestamp"] = f"{prefix}.{int((now - second) * 1_000_000):06d}Z"
        return event


def _level(level: str) -> int:
    number = LEVELS.get(level.lower()) if isinstance(level, str) else None
    if number is None:
        raise ConfigError(f"log level must be one of {', '.join(LEVELS)}, got {level!r}")
    return number


def configure_logging(
    *,
    json: bool = True,
    level: str = "info",
    stream: IO[str] | None = None,
    stdlib: bool = True,
    access: bool = True,
) -> None:
    """Set up structlog (and, with ``stdlib``, the ``logging`` root) for the whole process.

    ``stream`` defaults to ``sys.stderr`` as it is at each write (a test runner or a
    daemon may replace it after this call). Calling it again replaces
    the previous set-up: loggers from :func:`get_logger` follow, no handler is added twice.
    """
    number = _level(level)
    out = cast(TextIO, stream if stream is not None else _STDERR)
    renderer: Processor
    if json:
        renderer = structlog.processors.JSONRenderer(serializer=_dumps)
        errors: list[Processor] = [
            structlog.processors.ExceptionRenderer(
                structlog.tracebacks.ExceptionDictTransformer(show_locals=False)
            )
        ]
    else:
        renderer = structlog.dev.ConsoleRenderer(
            colors=out.isatty(), exception_formatter=structlog.dev.plain_traceback
        )
        errors = []
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.stdlib.add_logger_name,
            structlog.processors.add_log_level,
            _Timestamp(),
            _redact,
            *errors,
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(number),
        logger_factory=_WriterFactory(out),
        context_class=dict,
        # cached loggers would keep the old stream and level after a second call
        cache_logger_on_first_use=False,
    )
    global _access
    _access = None
    if access and number <= LEVELS["info"]:
        _access = _JsonAccess(out) if json else _ConsoleAccess(out, renderer, number)
    root = logging.getLogger()
    for old in [h for h in root.handlers if isinstance(h, _Handler)]:
        root.removeHandler(old)
    if stdlib:
        _route_stdlib(out, number, [*errors, renderer])


def _route_stdlib(out: TextIO, number: int, render: list[Processor]) -> None:
    formatter = structlog.stdlib.ProcessorFormatter(
        processors=[
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            _redact,
            *render,
        ],
        foreign_pre_chain=[
            structlog.stdlib.add_log_level,
            structlog.stdlib.add_logger_name,
            _Timestamp(),
        ],
    )
    handler = _Handler(out)
    handler.setFormatter(formatter)
    root = logging.getLogger()
    root.addHandler(handler)
    root.setLevel(number)


def get_logger(name: str) -> FilteringBoundLogger:
    """A structlog logger whose lines carry ``logger=name``."""
    return cast(FilteringBoundLogger, structlog.get_logger(name))


def access_log(api: str, record: AuditRecord) -> None:
    """Write one access line for ``record`` (event ``request``), or nothing when off."""
    write = _access
    if write is not None:
        write(api, record)


def _fields(api: str, record: AuditRecord) -> dict[str, Any]:
    return {
        "api": api,
        "request_id": record.request_id,
        "client_ip": record.client_ip,
        "identity": record.identity,
        "method": record.method,
        "path": record.path,
        "operation": record.operation,
        "decision": record.decision,
        "policy": record.policy,
        "status": record.status,
        "latency_us": record.latency_us,
        "request_bytes": record.request_bytes,
        "response_bytes": record.response_bytes,
        "reason": record.reason,
        "ts_ms": record.ts_ms,
    }


class _JsonAccess:
    """The JSON access line written directly: the same line structlog's chain would
    render, without its per-call context copy and dispatch (a third of the cost)."""

    def __init__(self, out: TextIO) -> None:
        self.write = out.write
        self.flush = out.flush
        self.stamp = _Timestamp()

    def __call__(self, api: str, record: AuditRecord) -> None:
        event = _fields(api, record)
        event["logger"] = ACCESS_LOGGER
        event["level"] = "info"
        event["event"] = "request"
        self.stamp(None, "info", event)
        self.write(_encode(event) + "\n")
        self.flush()


class _ConsoleAccess:
    def __init__(self, out: TextIO, renderer: Processor, number: int) -> None:
        wrapper: Any = structlog.make_filtering_bound_logger(number)
        context = {"logger": ACCESS_LOGGER, "level": "info"}
        self.log = wrapper(_NamedWriter(out, ACCESS_LOGGER), [_Timestamp(), renderer], context)

    def __call__(self, api: str, record: AuditRecord) -> None:
        self.log.info("request", **_fields(api, record))
