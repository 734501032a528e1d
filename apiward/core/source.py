"""Reading and parsing the files an API document is made of, with limits.

A :class:`Source` is one parsed file (or URL). It keeps the text so that any JSON
pointer inside it can be turned into a line and column on demand; the position
index is built lazily because most runs only need a few positions.
"""

from __future__ import annotations

import json
import os
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from typing import Any

import yaml

from apiward.errors import ParseError, SourceError

_YamlLoader: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

LOOPBACK_HOSTS = frozenset({"localhost", "127.0.0.1", "::1", "[::1]"})


@dataclass(frozen=True, slots=True)
class Limits:
    """Bounds on what a document may cost to load. Configurable; the defaults fit real specs."""

    max_bytes: int = 64 * 1024 * 1024
    max_yaml_aliases: int = 10_000
    max_depth: int = 2_000
    max_ref_files: int = 500


@dataclass(slots=True)
class Source:
    """One parsed file: its URI, raw text, parsed data and (lazily) its positions."""

    uri: str
    text: str
    data: Any
    format: str  # "json" or "yaml"
    _positions: Any = field(default=None, repr=False)

    def position(self, pointer: str) -> tuple[int, int] | None:
        """1-based (line, column) of the value at ``pointer``, or None if unknown."""
        if self._positions is None:
            from apiward.core.positions import PositionIndex

            self._positions = PositionIndex(self.text, self.format)
        result: tuple[int, int] | None = self._positions.position(pointer)
        return result


def is_url(uri: str) -> bool:
    return uri.startswith(("http://", "https://"))


def read_text(uri: str, limits: Limits) -> str:
    """The text at a path or loopback URL, refusing anything over ``limits.max_bytes``."""
    if is_url(uri):
        return _read_url(uri, limits)
    try:
        size = os.path.getsize(uri)
    except OSError as exc:
        raise SourceError(f"cannot read: {exc.strerror or exc}", file=uri) from None
    if size > limits.max_bytes:
        raise SourceError(
            f"file is {size:,} bytes, over the limit of {limits.max_bytes:,} "
            "(raise it with --max-bytes)",
            file=uri,
        )
    try:
        with open(uri, "rb") as fh:
            raw = fh.read()
    except OSError as exc:
        raise SourceError(f"cannot read: {exc.strerror or exc}", file=uri) from None
    return _decode(raw, uri)


def _read_url(uri: str, limits: Limits) -> str:
    host = urllib.parse.urlsplit(uri).hostname or ""
    if host not in LOOPBACK_HOSTS and not host.startswith("127."):
        raise SourceError(
            f"refusing to fetch from {host!r}: only loopback URLs are allowed", file=uri
        )
    try:
        with urllib.request.urlopen(uri, timeout=10) as resp:  # noqa: S310 - loopback only, checked above
            raw = resp.read(limits.max_bytes + 1)
    except OSError as exc:
        raise SourceError(f"cannot fetch: {exc}", file=uri) from None
    if len(raw) > limits.max_bytes:
        raise SourceError(f"response is over the limit of {limits.max_bytes:,} bytes", file=uri)
    return _decode(raw, uri)


def _decode(raw: bytes, uri: str) -> str:
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ParseError(f"not UTF-8 text (byte {exc.start})", file=uri) from None


def parse(text: str, uri: str, limits: Limits) -> Source:
    """Parse JSON or YAML text into a :class:`Source`. Raises :class:`ParseError`."""
    stripped = text.lstrip()
    if stripped.startswith(("{", "[")):
        try:
            return Source(uri, text, json.loads(text), "json")
        except json.JSONDecodeError as exc:
            if uri.endswith(".json"):
                raise ParseError(
                    f"invalid JSON: {exc.msg}", file=uri, line=exc.lineno, column=exc.colno
                ) from None
            # YAML flow style also starts with '{'; fall through
        except RecursionError:
            raise ParseError("JSON nested too deeply", file=uri) from None
    return Source(uri, text, parse_yaml(text, uri, limits), "yaml")


def parse_yaml(text: str, uri: str, limits: Limits) -> Any:
    """Safe YAML with a bound on alias expansion (the 'billion laughs' bomb)."""
    aliases = text.count("*")
    if aliases > limits.max_yaml_aliases and _count_aliases(text, uri) > limits.max_yaml_aliases:
        raise ParseError(
            f"more than {limits.max_yaml_aliases:,} YAML aliases: refusing a possible alias bomb",
            file=uri,
        )
    try:
        return yaml.load(text, Loader=_YamlLoader)  # noqa: S506, TID251 - a SafeLoader
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark
        raise ParseError(
            f"invalid YAML: {exc.problem or exc}",
            file=uri,
            line=mark.line + 1 if mark else None,
            column=mark.column + 1 if mark else None,
        ) from None
    except yaml.YAMLError as exc:
        raise ParseError(f"invalid YAML: {exc}", file=uri) from None
    except RecursionError:
        raise ParseError("YAML nested too deeply", file=uri) from None


def _count_aliases(text: str, uri: str) -> int:
    try:
        return sum(isinstance(e, yaml.AliasEvent) for e in yaml.parse(text, Loader=_YamlLoader))
    except yaml.YAMLError:
        return 0  # the real parse reports the error with its position
