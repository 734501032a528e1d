"""The ``apiward.yaml`` config file: one validated file for every apiward tool.

The file is YAML, validated into typed, frozen objects. Each tool owns one
section (``audit:``, ``scan:``; ``gateway:`` later adds a field to
:class:`ApiwardConfig`). Names that only a higher layer knows (audit rule ids,
scan check ids) are checked through the validation context, so this package
imports nothing but ``core``::

    cfg = load_config("apiward.yaml", known={"audit rule": RULES.names()})

Errors name the file, the key path and what is wrong, as one line:
``apiward.yaml: audit.rules.string-limt: unknown audit rule 'string-limt' (did you mean
string-limit?)``. The JSON Schema of the file is :func:`json_schema` (shipped as
``docs/apiward.schema.json`` for editors).
"""

from apiward.config.audit import AuditSection
from apiward.config.fields import RuleSetting
from apiward.config.file import (
    DEFAULT_CONFIG_FILE,
    ApiwardConfig,
    find_config,
    json_schema,
    load_config,
    parse_config,
)
from apiward.config.scan import IdentitySection, LoginSection, ScanSection

__all__ = [
    "DEFAULT_CONFIG_FILE",
    "ApiwardConfig",
    "AuditSection",
    "IdentitySection",
    "LoginSection",
    "RuleSetting",
    "ScanSection",
    "find_config",
    "json_schema",
    "load_config",
    "parse_config",
]
