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
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from apiward.config.audit import AuditSection
from apiward.config.fields import Section, describe_kind
from apiward.config.gateway import GatewaySection, gateway_relative_to
from apiward.config.scan import ScanSection
from apiward.errors import ConfigError

__all__ = [
    "DEFAULT_CONFIG_FILE",
    "ApiwardConfig",
    "find_config",
    "json_schema",
    "load_config",
    "parse_config",
]

DEFAULT_CONFIG_FILE = "apiward.yaml"
SCHEMA_ID = "urn:apiward:config"


class ApiwardConfig(Section):
    """The whole `apiward.yaml`: one section per tool."""

    model_config = ConfigDict(
        title="apiward configuration",
        json_schema_extra={"$schema": "https://json-schema.org/draft/2020-12/schema"},
    )

    audit: AuditSection = Field(
        default_factory=AuditSection, description="`apiward audit`: rules, gating, baseline."
    )
    scan: ScanSection = Field(
        default_factory=ScanSection,
        description="`apiward scan`: target, identities, limits, checks, gating.",
    )
    gateway: GatewaySection = Field(
        default_factory=GatewaySection,
        description="`apiward gateway`: listeners, backends and the APIs it protects.",
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
        raise ConfigError(f"the top level must be a mapping, not {describe_kind(data)}", path=path)
    # an empty section (`audit:` with nothing under it) means the defaults
    data = {k: {} if v is None else v for k, v in data.items()}
    try:
        cfg = ApiwardConfig.model_validate(data, context={"known": dict(known or {})})
    except ValidationError as exc:
        key, message = _first_error(exc)
        raise ConfigError(message, path=path, key=key) from None
    return _relative_to(cfg, os.path.dirname(path))


def _relative_to(cfg: ApiwardConfig, directory: str) -> ApiwardConfig:
    """File paths in the config, made relative to the config file's directory."""
    audit, scan = cfg.audit, cfg.scan
    if audit.baseline is not None:
        audit = audit.model_copy(update={"baseline": os.path.join(directory, audit.baseline)})
    paths = {
        key: os.path.join(directory, value)
        for key in ("baseline", "request_log")
        if (value := getattr(scan, key)) is not None
    }
    if paths:
        scan = scan.model_copy(update=paths)
    gateway = gateway_relative_to(cfg.gateway, directory)
    return cfg.model_copy(update={"audit": audit, "scan": scan, "gateway": gateway})


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
        return key, f"must be a mapping, not {describe_kind(err.get('input'))}"
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
