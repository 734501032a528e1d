"""The ``scan:`` section of ``apiward.yaml``: the target, the identities, the limits.

Identities are the heart of it: the scanner logs in as each one and replays
what one identity made as every other. A credential value may name an
environment variable as ``${NAME}`` so that secrets stay out of the file; it
is expanded when the scan starts.
"""

from __future__ import annotations

import re
from typing import Annotated, Any

from pydantic import Field, field_validator, model_validator

from apiward.config.fields import FailOn, RuleSetting, Section, known_name

__all__ = ["CheckId", "IdentitySection", "LoginSection", "ScanSection", "operation_key"]

CheckId = Annotated[str, Field(pattern=r"^[a-z0-9]+(-[a-z0-9]+)*$"), known_name("scan check")]
IdentityName = Annotated[str, Field(pattern=r"^[A-Za-z0-9_.-]{1,64}$")]
_OPERATION = re.compile(r"^(GET|PUT|POST|DELETE|OPTIONS|HEAD|PATCH|TRACE|\*) \S+$")


def operation_key(value: str) -> str:
    """``"get /x"`` -> ``"GET /x"``; a ValueError for what is not ``METHOD /path``."""
    parts = value.split(None, 1)
    key = f"{parts[0].upper()} {parts[1]}" if len(parts) == 2 else value
    if not _OPERATION.match(key):
        raise ValueError(
            f"{value!r} is not an operation: write it as 'METHOD /path' ('* /path' for all)"
        )
    return key


OperationKey = Annotated[str, Field(description="An operation as `METHOD /path/{param}`.")]


class LoginSection(Section):
    """How an identity logs in: an operation of the spec and where its answer puts the token."""

    operation: OperationKey = Field(description="The login operation, e.g. `POST /auth/login`.")
    body: dict[str, Any] | None = Field(
        default=None, description="JSON body to send (values may use `${ENV_VAR}`)."
    )
    form: dict[str, str] | None = Field(
        default=None, description="Form fields to send instead of a JSON body."
    )
    token: str = Field(
        default="body.access_token",
        description="Where the token is in the answer: `body.<dotted.path>`, "
        "`header.<Name>` or `cookie.<name>`.",
    )
    header: str = Field(default="Authorization", description="Request header to carry the token.")
    scheme: str = Field(
        default="Bearer", description="Prefix before the token in that header ('' for none)."
    )

    @field_validator("operation")
    @classmethod
    def _operation(cls, value: str) -> str:
        return operation_key(value)

    @field_validator("token")
    @classmethod
    def _token_place(cls, value: str) -> str:
        kind, _, rest = value.partition(".")
        if kind not in ("body", "header", "cookie") or not rest:
            raise ValueError(
                f"{value!r}: write `body.<dotted.path>`, `header.<Name>` or `cookie.<name>`"
            )
        return value


class IdentitySection(Section):
    """One user the scanner acts as. ``anonymous`` (no credentials) is always added."""

    role: str = Field(default="user", description="A role name; `admin` marks a privileged one.")
    headers: dict[str, str] = Field(
        default_factory=dict, description="Static request headers, e.g. Authorization."
    )
    cookies: dict[str, str] = Field(default_factory=dict, description="Static cookies.")
    query: dict[str, str] = Field(
        default_factory=dict, description="Static query parameters, e.g. an api_key."
    )
    login: LoginSection | None = Field(
        default=None, description="Log in through an operation (re-run on expiry or 401)."
    )
    tenant: str | None = Field(
        default=None, description="Tenant name: identities of different tenants must not share."
    )
    expired_token: str | None = Field(
        default=None,
        description="A token of this identity that has expired, to prove expiry is enforced.",
    )


class ScanSection(Section):
    """Settings of `apiward scan`. Command-line options override them."""

    target: str | None = Field(
        default=None,
        description="Base URL of the API under test (default: the spec's first server).",
    )
    identities: dict[IdentityName, IdentitySection] = Field(
        default_factory=dict, description="The users to act as, by name."
    )
    admin_operations: list[OperationKey] = Field(
        default_factory=list,
        description="Operations only admins may call (added to what the spec suggests: "
        "`/admin` paths, admin scopes and tags). Patterns: `* /admin/*`.",
    )
    public_operations: list[OperationKey] = Field(
        default_factory=list,
        description="Operations whose data is meant to be shared between users (never BOLA).",
    )
    exclude: list[OperationKey] = Field(
        default_factory=list,
        description="Operations never called, e.g. `POST /admin/reset`. Patterns allowed.",
    )
    safe: bool = Field(
        default=False, description="Run no destructive calls (DELETE, state resets)."
    )
    budget: int = Field(default=5000, ge=1, le=10_000_000, description="Most requests to send.")
    concurrency: int = Field(default=8, ge=1, le=256, description="Requests in flight at once.")
    timeout: float = Field(default=10.0, gt=0, le=600, description="Seconds per request.")
    rate: float | None = Field(
        default=None, gt=0, description="Most requests per second (default: no cap)."
    )
    checks: dict[CheckId, RuleSetting] = Field(
        default_factory=dict,
        description="Per-check setting by check id: `off`, `on`, or a severity to report it at.",
    )
    fail_on: FailOn = Field(
        default="high", description="Exit 1 when a finding at or above this severity is found."
    )
    baseline: str | None = Field(
        default=None, description="Baseline file of accepted findings (relative to this file)."
    )
    request_log: str | None = Field(
        default=None, description="Write every request and answer to this NDJSON file."
    )

    @field_validator("admin_operations", "public_operations", "exclude")
    @classmethod
    def _operations(cls, value: list[str]) -> list[str]:
        return [operation_key(x) for x in value]

    @field_validator("target")
    @classmethod
    def _http_url(cls, value: str | None) -> str | None:
        if value is not None and not re.match(r"^https?://[^/\s]+", value):
            raise ValueError(f"{value!r} is not an http(s) URL")
        return value

    @model_validator(mode="after")
    def _no_anonymous_credentials(self) -> ScanSection:
        anon = self.identities.get("anonymous")
        if anon is not None and (anon.headers or anon.cookies or anon.query or anon.login):
            raise ValueError("identities.anonymous is built in and carries no credentials")
        return self

    @property
    def disabled(self) -> frozenset[str]:
        return frozenset(k for k, v in self.checks.items() if v == "off")
