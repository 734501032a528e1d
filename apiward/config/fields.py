"""Building blocks shared by the config sections: kebab-case keys, name checks, severities."""

from __future__ import annotations

import difflib
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    ValidationInfo,
    WithJsonSchema,
)

__all__ = [
    "FailOn",
    "RuleSetting",
    "RuleSettingName",
    "Section",
    "describe_kind",
    "kebab",
    "known_name",
    "yaml_bool",
]

FailOn = Literal["info", "low", "medium", "high", "critical", "none"]
RuleSettingName = Literal["off", "on", "info", "low", "medium", "high", "critical"]


def kebab(name: str) -> str:
    return name.replace("_", "-")


def yaml_bool(value: Any) -> Any:
    # YAML 1.1 (PyYAML) reads a bare `off`/`on` as a boolean; editors (YAML 1.2) read a string.
    if value is True:
        return "on"
    if value is False:
        return "off"
    return value


def known_name(kind: str) -> Any:
    def check(value: str, info: ValidationInfo) -> str:
        known = (info.context or {}).get("known", {}).get(kind)
        if known is not None and value not in known:
            close = difflib.get_close_matches(value, list(known), n=3)
            hint = f" (did you mean {', '.join(close)}?)" if close else ""
            raise ValueError(f"unknown {kind} {value!r}{hint}")
        return value

    return AfterValidator(check)


RuleSetting = Annotated[
    RuleSettingName,
    BeforeValidator(yaml_bool),
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


class Section(BaseModel):
    # keys only as written in the schema (kebab-case): `fail_on` is an unknown key
    model_config = ConfigDict(extra="forbid", frozen=True, alias_generator=kebab)


def describe_kind(value: Any) -> str:
    """How a YAML value is named in messages: "a list", "a string", ..."""
    names = {list: "a list", str: "a string", int: "a number", float: "a number", bool: "a boolean"}
    return "nothing" if value is None else names.get(type(value), type(value).__name__)
