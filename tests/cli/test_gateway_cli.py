"""``apiward gateway --check``: the config validated and every API built, errors named."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from apiward.demo import demo_file

BANK = f"""
gateway:
  audit: {{store: "sqlite:audit.db"}}
  apis:
    - name: bank
      spec: {demo_file("openapi.yaml")}
      upstream: {{targets: ["http://127.0.0.1:9"]}}
      auth:
        jwt:
          bearerAuth:
            keys: [{{secret: "${{BANK_JWT_SECRET}}", algorithms: [HS256]}}]
"""


def test_check_builds_every_api_and_warns_about_unconfigured_schemes(
    cli: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = tmp_path / "apiward.yaml"
    config.write_text(BANK)
    monkeypatch.setenv("BANK_JWT_SECRET", "s" * 40)
    result = cli("gateway", "--check", "--config", str(config))
    assert result.code == 0, result.err
    assert "bank: 22 operations -> http://127.0.0.1:9" in result.out
    assert "authentication" in result.out and "response-filter" in result.out
    assert "scheme 'basicAuth' has no authenticator" in result.out
    assert "config ok" in result.out


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (("BANK_JWT_SECRET", None), "environment variable BANK_JWT_SECRET is not set"),
        (("BANK_JWT_SECRET", "short"), "secret"),
        (("targets: [", "targets: [ftp://x, "), "is not an http(s) URL"),
        (("bearerAuth:", "bearerAuthX:"), "the spec declares no security scheme 'bearerAuthX'"),
        (("name: bank", "name: bank\n      rate-limits: [{requests: 5, per: soon}]"), "soon"),
    ],
)
def test_config_errors_name_the_key(
    cli: Any,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    change: tuple[str, str | None],
    message: str,
) -> None:
    text = BANK
    old, new = change
    if old == "BANK_JWT_SECRET":
        if new is None:
            monkeypatch.delenv("BANK_JWT_SECRET", raising=False)
        else:
            monkeypatch.setenv("BANK_JWT_SECRET", new)
    else:
        monkeypatch.setenv("BANK_JWT_SECRET", "s" * 40)
        assert new is not None
        text = text.replace(old, new)
    config = tmp_path / "apiward.yaml"
    config.write_text(text)
    result = cli("gateway", "--check", "--config", str(config))
    assert result.code == 2, (result.out, result.err)
    assert message in result.err
    assert "Traceback" not in result.err


def test_no_config_file_is_a_config_error(cli: Any, tmp_path: Path, monkeypatch: Any) -> None:
    monkeypatch.chdir(tmp_path)
    result = cli("gateway", "--check")
    assert result.code == 2 and "no config file" in result.err


@pytest.mark.parametrize(
    ("old", "new"),
    [
        ('targets: ["http://127.0.0.1:9"]', 'targets: ["http://u:hunter2@10.0.0.5:1"]'),
        ('store: "sqlite:audit.db"', 'store: "mysql://gw:hunter2@db/audit"'),
    ],
)
def test_errors_never_show_a_password(
    cli: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, old: str, new: str
) -> None:
    monkeypatch.setenv("BANK_JWT_SECRET", "s" * 40)
    assert old in BANK
    config = tmp_path / "apiward.yaml"
    config.write_text(BANK.replace(old, new))
    result = cli("gateway", "--check", "--config", str(config))
    assert result.code == 2
    assert "***@" in result.err and "hunter2" not in result.err


def test_durations_must_be_finite(cli: Any, tmp_path: Path, monkeypatch: Any) -> None:
    monkeypatch.setenv("BANK_JWT_SECRET", "s" * 40)
    config = tmp_path / "apiward.yaml"
    config.write_text(BANK.replace("gateway:\n", "gateway:\n  drain-timeout: .inf\n"))
    result = cli("gateway", "--check", "--config", str(config))
    assert result.code == 2 and "gateway.drain-timeout" in result.err


def test_a_bad_listen_option_is_a_usage_error(cli: Any, tmp_path: Path, monkeypatch: Any) -> None:
    monkeypatch.setenv("BANK_JWT_SECRET", "s" * 40)
    config = tmp_path / "apiward.yaml"
    config.write_text(BANK)
    result = cli("gateway", "--check", "--config", str(config), "--listen", "nowhere")
    assert result.code == 2 and "--listen" in result.err and "Traceback" not in result.err
