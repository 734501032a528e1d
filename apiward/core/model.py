"""The parts of an API document that every apiward tool reasons about.

These are thin, read-only views over the normalized (OpenAPI 3) document: each
keeps its :class:`Location` and its raw mapping, so a rule can look at anything
the model does not name yet, and every finding can point at its source.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from apiward.core.findings import Location, OperationRef

HTTP_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")

Raw = dict[str, Any]


@dataclass(frozen=True, slots=True)
class Server:
    url: str
    description: str
    variables: Raw
    location: Location


@dataclass(frozen=True, slots=True)
class SecurityScheme:
    """A ``components.securitySchemes`` entry.

    ``type`` is ``apiKey``, ``http``, ``oauth2``, ``openIdConnect`` or ``mutualTLS``;
    ``scheme`` is the HTTP auth scheme (``basic``, ``bearer``) for ``http``;
    ``param_in``/``param_name`` say where an ``apiKey`` goes.
    """

    name: str
    type: str
    scheme: str | None
    bearer_format: str | None
    param_in: str | None
    param_name: str | None
    flows: Raw
    openid_connect_url: str | None
    location: Location
    raw: Raw


@dataclass(frozen=True, slots=True)
class SecurityRequirement:
    """One alternative of a ``security`` list: all these schemes together, with scopes.

    The empty requirement (``{}``) means "no authentication needed".
    """

    schemes: dict[str, tuple[str, ...]]

    @property
    def is_anonymous(self) -> bool:
        return not self.schemes


@dataclass(frozen=True, slots=True)
class Schema:
    """A schema as used somewhere, after following ``$ref``: its mapping and canonical location."""

    data: Raw
    location: Location


@dataclass(frozen=True, slots=True)
class Parameter:
    name: str
    param_in: str  # path, query, header, cookie
    required: bool
    deprecated: bool
    schema: Schema | None
    location: Location
    raw: Raw


@dataclass(frozen=True, slots=True)
class MediaType:
    media_type: str
    schema: Schema | None
    location: Location


@dataclass(frozen=True, slots=True)
class RequestBody:
    required: bool
    content: dict[str, MediaType]
    location: Location


@dataclass(frozen=True, slots=True)
class Header:
    name: str
    schema: Schema | None
    location: Location


@dataclass(frozen=True, slots=True)
class Response:
    status: str  # "200", "4XX", "default"
    description: str
    content: dict[str, MediaType]
    headers: dict[str, Header]
    location: Location


@dataclass(slots=True)
class Operation:
    """One method on one path template, with everything resolved for reading."""

    method: str  # upper case
    path: str
    location: Location
    raw: Raw
    operation_id: str | None
    summary: str
    tags: tuple[str, ...]
    deprecated: bool
    parameters: list[Parameter]
    request_body: RequestBody | None
    responses: dict[str, Response]
    security: list[SecurityRequirement] | None  # None: not set here, the global one applies
    effective_security: list[SecurityRequirement]
    servers: list[Server] = field(default_factory=list)

    @property
    def key(self) -> str:
        return f"{self.method} {self.path}"

    @property
    def ref(self) -> OperationRef:
        return OperationRef(self.key, self.location)

    @property
    def extensions(self) -> Raw:
        return {k: v for k, v in self.raw.items() if k.startswith("x-")}

    @property
    def requires_auth(self) -> bool:
        """True when every alternative of the effective security needs credentials."""
        return bool(self.effective_security) and not any(
            r.is_anonymous for r in self.effective_security
        )

    def parameter(self, name: str, param_in: str) -> Parameter | None:
        for p in self.parameters:
            if p.name == name and p.param_in == param_in:
                return p
        return None
