from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest
import yaml

from apiward.audit import RULES
from apiward.config import ApiwardConfig, find_config, json_schema, load_config, parse_config
from apiward.core import Severity
from apiward.errors import ConfigError

ROOT = Path(__file__).resolve().parent.parent
KNOWN = {"audit rule": RULES.names()}


def test_defaults() -> None:
    cfg = load_config(None)
    assert cfg == ApiwardConfig()
    assert cfg.audit.fail_on_severity is Severity.HIGH
    assert cfg.audit.min_score is None and cfg.audit.rules == {}


def test_a_full_audit_section() -> None:
    cfg = parse_config(
        """
audit:
  rules:
    operation-without-security: off      # YAML 1.1 reads this as false
    string-without-max-length: low
    numeric-object-id: on
  fail-on: medium
  min-score: 60
  baseline: ci/baseline.json
""",
        path="conf/apiward.yaml",
        known=KNOWN,
    )
    a = cfg.audit
    assert a.disabled == {"operation-without-security"}
    assert a.severities == {"string-without-max-length": Severity.LOW}
    assert a.fail_on_severity is Severity.MEDIUM and a.min_score == 60
    assert a.baseline == "conf/ci/baseline.json"  # relative to the config file


def test_empty_file_and_empty_section_are_the_defaults() -> None:
    assert parse_config("") == ApiwardConfig()
    assert parse_config("audit:\n") == ApiwardConfig()


def test_fail_on_none_means_never() -> None:
    assert parse_config("audit: {fail-on: none}").audit.fail_on_severity is None


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "audit:\n  rules:\n    operation-without-securty: off\n",
            "apiward.yaml: audit.rules.operation-without-securty: unknown audit rule "
            "'operation-without-securty' (did you mean operation-without-security?)",
        ),
        (
            "audit:\n  rulez: {}\n",
            "apiward.yaml: audit.rulez: unknown key (did you mean rules? expected one of: "
            "rules, fail-on, min-score, baseline)",
        ),
        (
            "scna: {}\n",
            "apiward.yaml: scna: unknown key (did you mean scan? expected one of: "
            "audit, scan, gateway)",
        ),
        (
            "audit: {rules: {operation-without-security: lowish}}",
            "apiward.yaml: audit.rules.operation-without-security: input should be 'off', 'on', "
            "'info', 'low', 'medium', 'high' or 'critical' (got 'lowish')",
        ),
        (
            "audit: {fail-on: hi}",
            "apiward.yaml: audit.fail-on: input should be 'info', 'low', 'medium', 'high', "
            "'critical' or 'none' (got 'hi')",
        ),
        (
            "audit: {min-score: 300}",
            "apiward.yaml: audit.min-score: input should be less than or equal to 100 (got 300)",
        ),
        ("audit: [1]", "apiward.yaml: audit: must be a mapping, not a list"),
        ("- 1\n", "apiward.yaml: the top level must be a mapping, not a list"),
        (
            "audit: {rules: {Bad_Id: off}}",
            "apiward.yaml: audit.rules.Bad_Id: not a valid id (lower-case words joined by '-')",
        ),
        ("audit: [\n", "apiward.yaml:2: invalid YAML: "),
    ],
)
def test_errors_name_file_key_and_problem(text: str, expected: str) -> None:
    with pytest.raises(ConfigError) as info:
        parse_config(text, path="apiward.yaml", known=KNOWN)
    assert str(info.value).startswith(expected)
    assert "\n" not in str(info.value)


def test_unknown_rules_pass_when_no_names_are_given() -> None:
    assert parse_config("audit: {rules: {future-rule: off}}").audit.disabled == {"future-rule"}


def test_missing_file_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read"):
        load_config(str(tmp_path / "nope.yaml"))


def test_find_config(tmp_path: Path) -> None:
    assert find_config(str(tmp_path)) is None
    (tmp_path / "apiward.yaml").write_text("audit: {}\n")
    assert find_config(str(tmp_path)) == str(tmp_path / "apiward.yaml")


def test_the_config_is_frozen() -> None:
    cfg = ApiwardConfig()
    with pytest.raises(ValueError, match="frozen"):
        cfg.audit.min_score = 3  # type: ignore[misc]


def test_the_shipped_schema_is_up_to_date() -> None:
    shipped = json.loads((ROOT / "docs" / "apiward.schema.json").read_text())
    assert shipped == json_schema(), "regenerate: apiward config schema > docs/apiward.schema.json"


def test_the_schema_accepts_what_the_loader_accepts_and_rejects_unknown_keys() -> None:
    validator = jsonschema.Draft202012Validator(json_schema())
    good = yaml.safe_load(
        "audit: {rules: {string-without-max-length: low, x: off}, fail-on: none, min-score: 5}"
    )
    validator.validate(good)
    assert not validator.is_valid({"audit": {"rulez": {}}})
    assert not validator.is_valid({"audit": {"rules": {"x": "sometimes"}}})
    assert not validator.is_valid({"scna": {}})
    validator.validate(
        yaml.safe_load(
            'scan: {target: "http://127.0.0.1:8000", identities: {alice: {role: user, '
            "login: {operation: POST /auth/login, body: {username: alice}}}}}"
        )
    )
    assert not validator.is_valid({"scan": {"identities": {"a": {"rol": "user"}}}})
