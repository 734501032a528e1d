"""The ``apiward.yaml`` config file: one validated file for every apiward tool.

The file is YAML, validated into typed, frozen objects. Each tool owns one
section (``audit:`` today; ``scan:`` and ``gateway:`` later add a field to
:class:`ApiwardConfig`). Names that only a higher layer knows (audit rule ids,
later scan checks) are checked through the validation context, so this module
imports nothing but ``core``::

    cfg = load_config("apiward.yaml", known={"audit rule": RULES.names()})

Errors name the file, the key path and what is wrong, as one line:
``apiward.yaml: audit.rules.string-limt: unknown audit rule 'string-limt' (did you mean
string-limit?)``. The JSON Schema of the file is :func:`json_schema` (shipped as
``docs/apiward.schema.json`` for editors).
"""

from __future__ import annotations

import difflib
import os
from collections.abc import Collection, Mapping
from typing import Annotated, Any, Literal

import yaml
from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    WithJsonSchema,
)

from apiward.core import Severity
from apiward.errors import ConfigError

__all__ = [
    "DEFAULT_CONFIG_FILE",
    "ApiwardConfig",
    "AuditSection",
    "RuleSetting",
    "find_config",
    "json_schema",
    "load_config",
    "parse_config",
]

DEFAULT_CONFIG_FILE = "apiward.yaml"
SCHEMA_ID = "urn:apiward:config"

FailOn = Literal["info", "low", "medium", "high", "critical", "none"]
RuleSettingName = Literal["off", "on", "info", "low", "medium", "high", "critical"]


def _kebab(name: str) -> str:
    return name.replace("_", "-")


def _yaml_bool(value: Any) -> Any:
    # YAML 1.1 (PyYAML) reads a bare `off`/`on` as a boolean; editors (YAML 1.2) read a string.
    if value is True:
        return "on"
    if value is False:
        return "off"
    return value


def _known(kind: str) -> Any:
    def check(value: str, info: ValidationInfo) -> str:
        known = (info.context or {}).get("known", {}).get(kind)
        if known is not None and value not in known:
            close = difflib.get_close_matches(value, list(known), n=3)
            hint = f" (did you mean {', '.join(close)}?)" if close else ""
            raise ValueError(f"unknown {kind} {value!r}{hint}")
        return value

    return AfterValidator(check)


RuleId = Annotated[str, Field(pattern=r"^[a-z0-9]+(-[a-z0-9]+)*$"), _known("audit rule")]
RuleSetting = Annotated[
    RuleSettingName,
    BeforeValidator(_yaml_bool),
    WithJsonSchema(
        {
            "anyOf": [
                {"enum": ["off", "on", "info", "low", "medium", "high", "critical"]},
                {"type": "boolean"},
            ],
            "description": "`off` disables the rule, `on` keeps its default severity, "
            "a severity name overrides it.",
        }
    ),
]


class _Section(BaseModel):
    # keys only as written in the schema (kebab-case): `fail_on` is an unknown key
    model_config = ConfigDict(extra="forbid", frozen=True, alias_generator=_kebab)


class AuditSection(_Section):
    """Settings of `apiward audit`. Command-line options override them."""

    rules: dict[RuleId, RuleSetting] = Field(
        default_factory=dict,
        description="Per-rule setting by rule id: `off`, `on`, or a severity to report it at.",
    )
    fail_on: FailOn = Field(
        default="high",
        description="Exit 1 when a finding at or above this severity is reported "
        "(`none`: findings never fail the run).",
    )
    min_score: int | None = Field(
        default=None, ge=0, le=100, description="Exit 1 when a spec scores below this (0-100)."
    )
    baseline: str | None = Field(
        default=None,
        description="Baseline file of accepted findings (relative to this config file): "
        "only findings not in it are reported.",
    )

    @property
    def disabled(self) -> frozenset[str]:
        return frozenset(k for k, v in self.rules.items() if v == "off")

    @property
    def severities(self) -> dict[str, Severity]:
        return {k: Severity(v) for k, v in self.rules.items() if v not in ("off", "on")}

    @property
    def fail_on_severity(self) -> Severity | None:
        return None if self.fail_on == "none" else Severity(self.fail_on)


class ApiwardConfig(_Section):
    """The whole `apiward.yaml`: one section per tool."""

    model_config = ConfigDict(
        title="apiward configuration",
        json_schema_extra={"$schema": "https://json-schema.org/draft/2020-12/schema"},
    )

    audit: AuditSection = Field(
        default_factory=AuditSection, description="`apiward audit`: rules, gating, baseline."
    )


def find_config(directory: str = ".") -> str | None:
    """``apiward.yaml`` in ``directory`` if there is one (the default config file)."""
    path = DEFAULT_CONFIG_FILE if directory == "." else os.path.join(directory, DEFAULT_CONFIG_FILE)
    return path if os.path.isfile(path) else None


def load_config(
    path: str | None, *, known: Mapping[str, Collection[str]] | None = None
) -> ApiwardConfig:
    """Read and validate a config file; ``None`` gives the defaults.

    ``known`` maps a kind of name (``"audit rule"``) to the valid names, so that
    misspelt ids are reported with a suggestion. Relative paths in the file are
    made relative to the file's directory. Raises :class:`ConfigError`.
    """
    if path is None:
        return ApiwardConfig()
    try:
        with open(path, encoding="utf-8") as fh:
            text = fh.read()
    except OSError as exc:
        raise ConfigError(f"cannot read: {exc.strerror or exc}", path=path) from None
    except UnicodeDecodeError:
        raise ConfigError("not UTF-8 text", path=path) from None
    return parse_config(text, path=path, known=known)


def parse_config(
    text: str,
    *,
    path: str = DEFAULT_CONFIG_FILE,
    known: Mapping[str, Collection[str]] | None = None,
) -> ApiwardConfig:
    """Validate config text (``path`` names it in errors and anchors relative paths)."""
    try:
        data = yaml.safe_load(text)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark
        where = f"{path}:{mark.line + 1}" if mark else path
        raise ConfigError(f"invalid YAML: {exc.problem or exc}", path=where) from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"invalid YAML: {exc}", path=path) from None
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ConfigError(f"the top level must be a mapping, not {_kind(data)}", path=path)
    # an empty section (`audit:` with nothing under it) means the defaults
    data = {k: {} if v is None else v for k, v in data.items()}
    try:
        cfg = ApiwardConfig.model_validate(data, context={"known": dict(known or {})})
    except ValidationError as exc:
        key, message = _first_error(exc)
        raise ConfigError(message, path=path, key=key) from None
    if cfg.audit.baseline is not None:
        base = os.path.join(os.path.dirname(path), cfg.audit.baseline)
        cfg = cfg.model_copy(update={"audit": cfg.audit.model_copy(update={"baseline": base})})
    return cfg


def json_schema() -> dict[str, Any]:
    """The JSON Schema of ``apiward.yaml`` (what ``apiward config schema`` prints)."""
    schema = ApiwardConfig.model_json_schema(by_alias=True)
    return {"$schema": schema.pop("$schema"), "$id": SCHEMA_ID, **schema}


def _first_error(exc: ValidationError) -> tuple[str, str]:
    err = exc.errors(include_url=False)[0]
    loc = [p for p in err["loc"] if p != "[key]"]
    key = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in loc).lstrip(".")
    kind = err["type"]
    if kind == "value_error":
        return key, str(err["ctx"]["error"])
    if kind == "extra_forbidden":
        allowed = _allowed_keys(loc[:-1])
        close = difflib.get_close_matches(str(loc[-1]), allowed, n=1)
        hint = f"did you mean {close[0]}? " if close else ""
        return key, f"unknown key ({hint}expected one of: {', '.join(allowed)})"
    if kind == "string_pattern_mismatch":
        return key, "not a valid id (lower-case words joined by '-')"
    if kind == "missing":
        return key, "required"
    if kind in ("model_type", "dict_type"):
        return key, f"must be a mapping, not {_kind(err.get('input'))}"
    value = err.get("input")
    got = f" (got {value!r})" if isinstance(value, str | int | float | bool) else ""
    return key, f"{err['msg'][0].lower()}{err['msg'][1:]}{got}"


def _allowed_keys(loc: list[Any]) -> list[str]:
    model: Any = ApiwardConfig
    for part in loc:
        field = next((f for n, f in model.model_fields.items() if part in (n, f.alias)), None)
        if field is None or not (
            isinstance(field.annotation, type) and issubclass(field.annotation, BaseModel)
        ):
            return []
        model = field.annotation
    return [f.alias or n for n, f in model.model_fields.items()]


def _kind(value: Any) -> str:
    names = {list: "a list", str: "a string", int: "a number", float: "a number", bool: "a boolean"}
    return "nothing" if value is None else names.get(type(value), type(value).__name__)
