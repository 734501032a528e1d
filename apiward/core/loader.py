"""Entry points: load an API document from a file, a loopback URL, text or a mapping."""

from __future__ import annotations

import os
from typing import Any

from apiward.core.document import Document
from apiward.core.source import Limits, Source, is_url, parse, read_text
from apiward.errors import SpecError


def load(location: str, *, limits: Limits | None = None) -> Document:
    """Load an OpenAPI 3.0/3.1 or Swagger 2.0 document from a path or loopback URL."""
    limits = limits or Limits()
    uri = location if is_url(location) else os.path.abspath(location)
    return _document(parse(read_text(uri, limits), uri, limits), limits)


def loads(text: str, *, uri: str = "<memory>.yaml", limits: Limits | None = None) -> Document:
    """Load a document from JSON or YAML text (``uri`` names it in errors and findings)."""
    limits = limits or Limits()
    return _document(parse(text, uri, limits), limits)


def from_dict(data: dict[str, Any], *, uri: str = "<memory>.json") -> Document:
    """Wrap an already-parsed mapping (handy in tests and for specs built in code)."""
    import json

    return _document(Source(uri, json.dumps(data), data, "json"), Limits())


def _document(source: Source, limits: Limits) -> Document:
    data = source.data
    if not isinstance(data, dict):
        raise SpecError(
            f"not an API document: the top level is a {type(data).__name__}, not a mapping",
            file=source.uri,
        )
    if "openapi" in data:
        version = str(data["openapi"])
        if not version.startswith(("3.0", "3.1")):
            raise SpecError(
                f"unsupported OpenAPI version {version!r} (3.0 and 3.1 are)",
                file=source.uri,
                pointer="/openapi",
            )
        return Document(source, data, version, limits=limits)
    if "swagger" in data:
        version = str(data["swagger"])
        if version != "2.0":
            raise SpecError(
                f"unsupported Swagger version {version!r} (2.0 is)",
                file=source.uri,
                pointer="/swagger",
            )
        from apiward.core.swagger2 import convert

        converted, origin = convert(data, source.uri)
        return Document(source, converted, version, limits=limits, origin=origin)
    raise SpecError(
        "not an OpenAPI document: no top-level 'openapi' or 'swagger' field", file=source.uri
    )
