"""Entry points: load an API document from a file, a loopback URL, text or a mapping.

Every way a document can be unusable ends in an :class:`~apiward.errors.InputError`
that names the file (and line, where there is one): unreadable or too large
(:class:`SourceError`), not JSON/YAML (:class:`ParseError`), not an OpenAPI 3.0/3.1
or Swagger 2.0 document (:class:`SpecError`).
"""

from __future__ import annotations

import json
import os
from typing import Any

from apiward.core.document import Document
from apiward.core.source import Limits, Source, check_size, is_url, parse, read_text
from apiward.errors import SpecError


def load(location: str, *, limits: Limits | None = None) -> Document:
    """Load an OpenAPI 3.0/3.1 or Swagger 2.0 document from a path or loopback URL."""
    limits = limits or Limits()
    uri = location if is_url(location) else os.path.abspath(location)
    return _document(parse(read_text(uri, limits), uri, limits), limits)


def loads(text: str, *, uri: str = "<memory>.yaml", limits: Limits | None = None) -> Document:
    """Load a document from JSON or YAML text (``uri`` names it in errors and findings)."""
    limits = limits or Limits()
    check_size(text, uri, limits)
    return _document(parse(text, uri, limits), limits)


def from_dict(data: dict[str, Any], *, uri: str = "<memory>.json") -> Document:
    """Wrap an already-parsed mapping (handy in tests and for specs built in code)."""
    try:
        text = json.dumps(data, default=str)
    except (ValueError, RecursionError):  # circular or very deep: positions are then unknown
        text = ""
    return _document(Source(uri, text, data, "json"), Limits())


def _document(source: Source, limits: Limits) -> Document:
    data = source.data
    if data is None:
        raise SpecError("not an API document: the file is empty", file=source.uri)
    if not isinstance(data, dict):
        raise SpecError(
            f"not an API document: the top level is a {_kind(data)}, not a mapping",
            file=source.uri,
            line=1,
        )
    if "openapi" in data:
        version = str(data["openapi"])
        if not version.startswith(("3.0", "3.1")):
            raise _version_error(
                source, "/openapi", f"OpenAPI version {version!r}", "3.0 and 3.1 are supported"
            )
        return Document(source, data, version, limits=limits)
    if "swagger" in data:
        version = str(data["swagger"])
        if version != "2.0":
            raise _version_error(
                source, "/swagger", f"Swagger version {version!r}", "2.0 is supported"
            )
        from apiward.core.swagger2 import convert

        converted, origin = convert(data, source.uri)
        return Document(source, converted, version, limits=limits, origin=origin)
    raise SpecError(
        "not an OpenAPI document: no top-level 'openapi' or 'swagger' field", file=source.uri
    )


def _version_error(source: Source, pointer: str, what: str, supported: str) -> SpecError:
    line, column = source.position(pointer) or (None, None)
    return SpecError(
        f"unsupported {what} ({supported})",
        file=source.uri,
        pointer=pointer,
        line=line,
        column=column,
    )


def _kind(value: Any) -> str:
    if isinstance(value, list):
        return "list"
    if isinstance(value, str):
        return "string"
    return type(value).__name__
