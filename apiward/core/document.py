"""The loaded API document: one model of an API for every apiward tool.

A :class:`Document` holds the normalized OpenAPI 3 mapping (Swagger 2.0 is
converted on load) and the files it was read from. ``$ref`` s are resolved on
access, never expanded in place, so recursive schemas cost nothing and every
node keeps the location it was written at.
"""

from __future__ import annotations

import os
import urllib.parse
from collections.abc import Callable, Iterator
from functools import cached_property
from typing import TYPE_CHECKING, Any

from apiward.core import pointer as jp
from apiward.core.findings import Location, OperationRef
from apiward.core.model import (
    HTTP_METHODS,
    Header,
    MediaType,
    Operation,
    Parameter,
    Raw,
    RequestBody,
    Response,
    Schema,
    SecurityRequirement,
    SecurityScheme,
    Server,
)
from apiward.core.source import Limits, Source, is_url, parse, read_text
from apiward.errors import ParseError, RefError, SourceError

if TYPE_CHECKING:
    from apiward.core.schemas import SchemaIndex

_MAX_REF_CHAIN = 64


class Document:
    """An OpenAPI document, normalized to OpenAPI 3, with its source files.

    ``version`` is the version the document declared (``"2.0"``, ``"3.0.3"``, ``"3.1.0"``).
    ``origin`` maps a pointer of the normalized document to the pointer in the
    file as written (it differs only for converted Swagger 2.0 documents).
    """

    def __init__(
        self,
        main: Source,
        data: Raw,
        version: str,
        *,
        limits: Limits | None = None,
        origin: Callable[[str], str] | None = None,
    ) -> None:
        self.uri = main.uri
        self.raw = data
        self.version = version
        self.limits = limits or Limits()
        self.origin = origin
        self.sources: dict[str, Source] = {main.uri: main}

    # -- navigation -------------------------------------------------------

    @property
    def is_openapi31(self) -> bool:
        return self.version.startswith("3.1")

    def data_of(self, file: str) -> Any:
        if file == self.uri:
            return self.raw
        return self._source(file).data

    def node(self, loc: Location) -> Any:
        """The value at a location; :class:`RefError` if there is none."""
        try:
            data = self.data_of(loc.file)
        except (SourceError, ParseError) as exc:
            raise RefError(exc.reason, file=exc.file, line=exc.line, column=exc.column) from None
        try:
            return jp.resolve(data, loc.pointer)
        except KeyError:
            raise RefError(
                f"nothing at {loc.pointer!r}", file=loc.file, pointer=loc.pointer
            ) from None

    def ref_target(self, ref: str, base: Location) -> Location:
        """Where a ``$ref`` string written at ``base`` points."""
        file_part, _, fragment = ref.partition("#")
        fragment = urllib.parse.unquote(fragment)
        if fragment and not fragment.startswith("/"):
            raise RefError(
                f"$ref {ref!r}: only JSON-pointer fragments are supported",
                file=base.file,
                pointer=base.pointer,
            )
        if not file_part:
            return Location(base.file, fragment)
        if is_url(base.file) or is_url(file_part):
            target = urllib.parse.urljoin(base.file, file_part)
        else:
            target = os.path.normpath(os.path.join(os.path.dirname(base.file), file_part))
        return Location(target, fragment)

    def resolve(self, value: Any, loc: Location) -> tuple[Any, Location]:
        """Follow ``$ref`` chains from ``value`` (found at ``loc``) to the value they name."""
        seen: set[Location] = set()
        while isinstance(value, dict) and isinstance(value.get("$ref"), str):
            target = self.ref_target(value["$ref"], loc)
            if target in seen or len(seen) > _MAX_REF_CHAIN:
                raise RefError(
                    f"$ref {value['$ref']!r} loops back on itself",
                    file=loc.file,
                    pointer=loc.pointer,
                )
            seen.add(target)
            try:
                value = self.node(target)
            except RefError as exc:
                raise self._ref_error(value["$ref"], loc, exc) from None
            loc = target
        return value, loc

    def _ref_error(self, ref: str, loc: Location, cause: RefError) -> RefError:
        """A RefError placed at the ``$ref`` as written (file, pointer, line)."""
        at = self.locate(Location(loc.file, jp.join(loc.pointer, "$ref")))
        source = self.sources.get(at.file)
        written = jp.resolve(source.data, at.pointer, ref) if source is not None else ref
        shown = written if isinstance(written, str) else ref
        detail = "" if cause.file == loc.file else f" ({cause})"  # another file: say why
        return RefError(
            f"$ref {shown!r} does not resolve{detail}",
            file=at.file,
            pointer=at.pointer,
            line=at.line,
            column=at.column,
        )

    def get(self, loc: Location, *tokens: str | int) -> tuple[Any, Location]:
        """Resolve, then step into ``tokens``, resolving each step; (None, loc) when absent."""
        value, loc = self.resolve(self.node(loc), loc)
        for token in tokens:
            child = jp.resolve(value, jp.join("", token), None)
            if child is None:
                return None, Location(loc.file, jp.join(loc.pointer, token))
            value, loc = self.resolve(child, Location(loc.file, jp.join(loc.pointer, token)))
        return value, loc

    def locate(self, loc: Location) -> Location:
        """The same location with the pointer as written and line/column filled in."""
        ptr = loc.pointer
        if loc.file == self.uri and self.origin is not None:
            ptr = self.origin(ptr)
        try:
            source = self._source(loc.file)
        except Exception:
            return Location(loc.file, ptr)
        pos = source.position(ptr)
        if pos is None:
            return Location(loc.file, ptr)
        return Location(loc.file, ptr, pos[0], pos[1])

    def _source(self, uri: str) -> Source:
        src = self.sources.get(uri)
        if src is None:
            if len(self.sources) >= self.limits.max_ref_files:
                raise RefError(f"more than {self.limits.max_ref_files} files referenced", file=uri)
            src = parse(read_text(uri, self.limits), uri, self.limits)
            self.sources[uri] = src
        return src

    # -- the model --------------------------------------------------------

    @cached_property
    def servers(self) -> list[Server]:
        return self._servers(self.raw.get("servers"), Location(self.uri, "/servers"))

    @cached_property
    def security_schemes(self) -> dict[str, SecurityScheme]:
        out: dict[str, SecurityScheme] = {}
        schemes = (self.raw.get("components") or {}).get("securitySchemes") or {}
        if not isinstance(schemes, dict):
            return out
        for name, value in schemes.items():
            raw, loc = self.resolve(
                value, Location(self.uri, jp.join("/components/securitySchemes", name))
            )
            if not isinstance(raw, dict):
                continue
            flows = raw.get("flows")
            out[name] = SecurityScheme(
                name=name,
                type=str(raw.get("type", "")),
                scheme=str(raw["scheme"]).lower() if raw.get("scheme") else None,
                bearer_format=raw.get("bearerFormat"),
                param_in=raw.get("in"),
                param_name=raw.get("name"),
                flows=flows if isinstance(flows, dict) else {},
                openid_connect_url=raw.get("openIdConnectUrl"),
                location=loc,
                raw=raw,
            )
        return out

    @cached_property
    def security(self) -> list[SecurityRequirement]:
        """The document-wide default security (empty: none declared)."""
        return _security_list(self.raw.get("security")) or []

    @cached_property
    def operations(self) -> list[Operation]:
        return list(self._iter_operations())

    def operation(self, method: str, path: str) -> Operation | None:
        for op in self.operations:
            if op.method == method.upper() and op.path == path:
                return op
        return None

    @cached_property
    def schema_index(self) -> SchemaIndex:
        from apiward.core.schemas import SchemaIndex

        return SchemaIndex(self)

    def usages(self, loc: Location) -> list[OperationRef]:
        """The operations that use whatever is at ``loc`` (directly or through ``$ref``)."""
        return self.schema_index.usages(loc)

    # -- building ---------------------------------------------------------

    def _iter_operations(self) -> Iterator[Operation]:
        paths = self.raw.get("paths")
        if not isinstance(paths, dict):
            return
        for path, item in paths.items():
            if not isinstance(item, dict):
                continue
            item, item_loc = self.resolve(item, Location(self.uri, jp.join("/paths", path)))
            if not isinstance(item, dict):
                continue
            shared = self._parameters(item.get("parameters"), item_loc)
            path_servers = self._servers(item.get("servers"), item_loc)
            for method in HTTP_METHODS:
                raw = item.get(method)
                if not isinstance(raw, dict):
                    continue
                yield self._operation(path, method, raw, item_loc, shared, path_servers)

    def _operation(
        self,
        path: str,
        method: str,
        raw: Raw,
        item_loc: Location,
        shared: list[Parameter],
        path_servers: list[Server],
    ) -> Operation:
        loc = Location(item_loc.file, jp.join(item_loc.pointer, method))
        own = self._parameters(raw.get("parameters"), loc)
        own_keys = {(p.name, p.param_in) for p in own}
        params = [p for p in shared if (p.name, p.param_in) not in own_keys] + own
        security = _security_list(raw.get("security"))
        body = self._request_body(raw.get("requestBody"), loc)
        tags = raw.get("tags")
        return Operation(
            method=method.upper(),
            path=path,
            location=loc,
            raw=raw,
            operation_id=raw.get("operationId")
            if isinstance(raw.get("operationId"), str)
            else None,
            summary=str(raw.get("summary") or ""),
            tags=tuple(str(t) for t in tags) if isinstance(tags, list) else (),
            deprecated=raw.get("deprecated") is True,
            parameters=params,
            request_body=body,
            responses=self._responses(raw.get("responses"), loc),
            security=security,
            effective_security=security if security is not None else self.security,
            servers=self._servers(raw.get("servers"), loc) or path_servers or self.servers,
        )

    def _servers(self, value: Any, parent: Location) -> list[Server]:
        if not isinstance(value, list):
            return []
        base = (
            parent
            if parent.pointer.endswith("/servers")
            else Location(parent.file, jp.join(parent.pointer, "servers"))
        )
        out = []
        for i, raw in enumerate(value):
            if isinstance(raw, dict) and isinstance(raw.get("url"), str):
                variables = raw.get("variables")
                out.append(
                    Server(
                        url=raw["url"],
                        description=str(raw.get("description") or ""),
                        variables=variables if isinstance(variables, dict) else {},
                        location=Location(base.file, jp.join(base.pointer, i)),
                    )
                )
        return out

    def _parameters(self, value: Any, parent: Location) -> list[Parameter]:
        if not isinstance(value, list):
            return []
        out = []
        for i, item in enumerate(value):
            raw, loc = self.resolve(
                item, Location(parent.file, jp.join(parent.pointer, "parameters", i))
            )
            if not isinstance(raw, dict) or not isinstance(raw.get("name"), str):
                continue
            schema = self._schema(raw.get("schema"), loc, "schema")
            if schema is None and isinstance(raw.get("content"), dict):
                media = self._content(raw["content"], loc)
                schema = next((m.schema for m in media.values() if m.schema is not None), None)
            out.append(
                Parameter(
                    name=raw["name"],
                    param_in=str(raw.get("in", "")),
                    required=raw.get("required") is True,
                    deprecated=raw.get("deprecated") is True,
                    schema=schema,
                    location=loc,
                    raw=raw,
                )
            )
        return out

    def _schema(self, value: Any, parent: Location, key: str) -> Schema | None:
        if not isinstance(value, dict):
            return None
        try:
            data, loc = self.resolve(value, Location(parent.file, jp.join(parent.pointer, key)))
        except RefError:
            return None  # a broken schema $ref is recorded in schema_index.broken_refs
        return Schema(data, loc) if isinstance(data, dict) else None

    def _content(self, value: Any, parent: Location) -> dict[str, MediaType]:
        if not isinstance(value, dict):
            return {}
        out = {}
        for media_type, raw in value.items():
            loc = Location(parent.file, jp.join(parent.pointer, "content", media_type))
            schema = (
                self._schema(raw.get("schema"), loc, "schema") if isinstance(raw, dict) else None
            )
            out[media_type] = MediaType(media_type, schema, loc)
        return out

    def _request_body(self, value: Any, parent: Location) -> RequestBody | None:
        if not isinstance(value, dict):
            return None
        raw, loc = self.resolve(
            value, Location(parent.file, jp.join(parent.pointer, "requestBody"))
        )
        if not isinstance(raw, dict):
            return None
        return RequestBody(raw.get("required") is True, self._content(raw.get("content"), loc), loc)

    def _responses(self, value: Any, parent: Location) -> dict[str, Response]:
        if not isinstance(value, dict):
            return {}
        out = {}
        for status, item in value.items():
            if str(status).startswith("x-"):
                continue
            raw, loc = self.resolve(
                item, Location(parent.file, jp.join(parent.pointer, "responses", status))
            )
            if not isinstance(raw, dict):
                continue
            headers: dict[str, Header] = {}
            if isinstance(raw.get("headers"), dict):
                for name, h in raw["headers"].items():
                    hraw, hloc = self.resolve(
                        h, Location(loc.file, jp.join(loc.pointer, "headers", name))
                    )
                    schema = (
                        self._schema(hraw.get("schema"), hloc, "schema")
                        if isinstance(hraw, dict)
                        else None
                    )
                    headers[name] = Header(name, schema, hloc)
            out[str(status)] = Response(
                status=str(status),
                description=str(raw.get("description") or ""),
                content=self._content(raw.get("content"), loc),
                headers=headers,
                location=loc,
            )
        return out


def _security_list(value: Any) -> list[SecurityRequirement] | None:
    if not isinstance(value, list):
        return None
    out = []
    for req in value:
        if isinstance(req, dict):
            out.append(
                SecurityRequirement(
                    {
                        str(k): tuple(str(s) for s in v) if isinstance(v, list) else ()
                        for k, v in req.items()
                    }
                )
            )
    return out
