"""Structured logs: JSON lines with the expected keys, access lines, redaction, re-configuration."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
import structlog

from apiward.errors import ConfigError
from apiward.gateway.auditlog_record import RECORD_FIELDS, AuditRecord
from apiward.gateway.logs import access_log, configure_logging, get_logger


@pytest.fixture(autouse=True)
def restore_logging() -> Iterator[None]:
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    configure_logging(stream=io.StringIO(), access=False, stdlib=False)
    root.handlers[:] = handlers
    root.setLevel(level)
    structlog.reset_defaults()


def lines(stream: io.StringIO) -> list[dict[str, Any]]:
    return [json.loads(line) for line in stream.getvalue().splitlines()]


def record() -> AuditRecord:
    return AuditRecord(
        request_id="gw-1-42",
        client_ip="203.0.113.9",
        method="GET",
        path="/accounts/7",
        operation="GET /accounts/{id}",
        identity="alice",
        decision="deny",
        policy="scopes",
        status=403,
        latency_us=830,
        request_bytes=0,
        response_bytes=57,
        reason="missing scope accounts:read",
    )


def assert_utc_now(stamp: str) -> None:
    assert stamp.endswith("Z")
    when = datetime.fromisoformat(stamp)
    assert when.tzinfo is not None and when.utcoffset() == UTC.utcoffset(None)
    assert abs((datetime.now(UTC) - when).total_seconds()) < 3600  # a sane clock, not a timing


def test_access_log_writes_one_json_line_with_the_record_fields() -> None:
    out = io.StringIO()
    configure_logging(stream=out)
    rec = record()
    access_log("payments", rec)
    (line,) = lines(out)
    assert line["event"] == "request" and line["level"] == "info"
    assert line["logger"] == "apiward.access" and line["api"] == "payments"
    assert {k: line[k] for k in RECORD_FIELDS} == rec.to_dict()
    assert_utc_now(line["timestamp"])


def test_logger_lines_have_the_standard_keys_and_hide_secrets() -> None:
    out = io.StringIO()
    configure_logging(stream=out, level="debug")
    log = get_logger("apiward.gateway.proxy")
    log.debug("upstream picked", target="http://10.0.0.5:8080")
    log.info("login", user="alice", password="hunter2", Authorization="Bearer x", api_key="k")
    first, second = lines(out)
    assert first["event"] == "upstream picked" and first["level"] == "debug"
    assert first["logger"] == "apiward.gateway.proxy"
    assert_utc_now(first["timestamp"])
    assert second["user"] == "alice"
    assert {second[k] for k in ("password", "Authorization", "api_key")} == {"**********"}
    assert "hunter2" not in out.getvalue()


def test_tracebacks_are_structured_and_never_show_locals() -> None:
    out = io.StringIO()
    configure_logging(stream=out)
    secret = "s3cret-in-a-local"
    try:
        raise ValueError("upstream answered garbage")
    except ValueError:
        get_logger("apiward.gateway").exception("proxy failed")
    (line,) = lines(out)
    assert line["level"] == "error"
    assert line["exception"][0]["exc_type"] == "ValueError"
    assert secret not in out.getvalue()


def test_stdlib_logging_is_rendered_the_same_way() -> None:
    out = io.StringIO()
    configure_logging(stream=out)
    logging.getLogger("apiward.gateway.auditlog").warning("store down: %s", "timeout")
    logging.getLogger("apiward.gateway.auditlog").debug("not shown at info")
    (line,) = lines(out)
    assert line["event"] == "store down: timeout" and line["level"] == "warning"
    assert line["logger"] == "apiward.gateway.auditlog"
    assert_utc_now(line["timestamp"])


def test_configuring_again_replaces_the_set_up() -> None:
    first, second = io.StringIO(), io.StringIO()
    configure_logging(stream=first)
    log = get_logger("apiward.test")  # taken before the second call: follows it anyway
    configure_logging(stream=second)
    log.info("hello")
    access_log("a", record())
    logging.getLogger("apiward.test").warning("from logging")
    assert first.getvalue() == ""
    assert [line["event"] for line in lines(second)] == ["hello", "request", "from logging"]

    def ours() -> int:
        return sum(type(h).__name__ == "_Handler" for h in logging.getLogger().handlers)

    assert ours() == 1
    configure_logging(stream=second, stdlib=False)  # and the handler goes when not wanted
    assert ours() == 0


def test_level_and_access_switches() -> None:
    out = io.StringIO()
    configure_logging(stream=out, level="warning")
    get_logger("apiward.test").info("too low")
    access_log("a", record())  # access lines are info: off at warning
    get_logger("apiward.test").warning("kept")
    assert [line["event"] for line in lines(out)] == ["kept"]

    out = io.StringIO()
    configure_logging(stream=out, access=False)
    access_log("a", record())
    assert out.getvalue() == ""


def test_console_output_for_people() -> None:
    out = io.StringIO()
    configure_logging(stream=out, json=False)
    access_log("payments", record())
    get_logger("apiward.test").info("hello", token="t0k3n")
    text = out.getvalue()
    assert "request" in text and "api=payments" in text and "status=403" in text
    assert "hello" in text and "t0k3n" not in text
    assert not text.lstrip().startswith("{")


def test_a_bad_level_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="log level must be one of debug, info"):
        configure_logging(level="verbose")
