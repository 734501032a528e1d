"""Reading and parsing the files an API document is made of, with limits.

A :class:`Source` is one parsed file (or URL). It keeps the text so that any JSON
pointer inside it can be turned into a line and column on demand; the position
index is built lazily because most runs only need a few positions.

Decisions worth knowing:

* JSON is tried first when the text starts with ``{`` or ``[``; YAML otherwise
  (and for ``{`` text that is not JSON but is YAML flow style).
* Duplicate keys: refused in YAML (the YAML spec forbids them and parsers disagree
  on which one wins); in JSON the last one wins, as in every mainstream JSON parser.
* Nesting: YAML deeper than :attr:`Limits.max_depth` is refused; Python's JSON
  parser itself stops at about 1,000 levels.
* URLs: only loopback hosts, no proxies, no redirects to anywhere else.
"""

from __future__ import annotations

import codecs
import ipaddress
import json
import os
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from typing import IO, Any

from apiward.errors import ParseError, SourceError

LOOPBACK_HOSTS = frozenset({"localhost", "127.0.0.1", "::1", "[::1]"})


@dataclass(frozen=True, slots=True)
class Limits:
    """Bounds on what a document may cost to load. Configurable; the defaults fit real specs.

    ``max_bytes`` applies to each file; ``max_depth`` to YAML nesting;
    ``max_yaml_aliases`` and ``max_alias_expansion`` (nodes that aliases may add
    to the document) stop "billion laughs" alias bombs; ``max_ref_files`` bounds
    how many files ``$ref`` s may pull in.
    """

    max_bytes: int = 64 * 1024 * 1024
    max_yaml_aliases: int = 10_000
    max_alias_expansion: int = 1_000_000
    max_depth: int = 500
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
        """1-based (line, column) of ``pointer`` (or of its deepest existing ancestor)."""
        if self._positions is None:
            from apiward.core.positions import PositionIndex

            self._positions = PositionIndex(self.text, self.format)
        result: tuple[int, int] | None = self._positions.position(pointer)
        return result


def is_url(uri: str) -> bool:
    return uri.startswith(("http://", "https://"))


def is_loopback_host(host: str) -> bool:
    """True for ``localhost`` and loopback IP addresses (127.0.0.0/8, ::1)."""
    if host.lower() in ("localhost", "localhost."):
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


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
            raw = fh.read(limits.max_bytes + 1)  # the file may grow after the size check
    except OSError as exc:
        raise SourceError(f"cannot read: {exc.strerror or exc}", file=uri) from None
    if len(raw) > limits.max_bytes:
        raise SourceError(f"file is over the limit of {limits.max_bytes:,} bytes", file=uri)
    return _decode(raw, uri)


class _LoopbackRedirects(urllib.request.HTTPRedirectHandler):
    """Follows a redirect only when it stays on a loopback host."""

    def redirect_request(
        self,
        req: urllib.request.Request,
        fp: IO[bytes],
        code: int,
        msg: str,
        headers: Any,
        newurl: str,
    ) -> urllib.request.Request | None:
        host = urllib.parse.urlsplit(newurl).hostname or ""
        if not is_url(newurl) or not is_loopback_host(host):
            raise SourceError(
                f"refusing a redirect to {newurl!r}: only loopback URLs are allowed",
                file=req.full_url,
            )
        return super().redirect_request(req, fp, code, msg, headers, newurl)


# No proxies: a proxy from the environment would take a "loopback" request off the machine.
_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}), _LoopbackRedirects())


def _read_url(uri: str, limits: Limits) -> str:
    host = urllib.parse.urlsplit(uri).hostname or ""
    if not is_loopback_host(host):
        raise SourceError(
            f"refusing to fetch from {host!r}: only loopback URLs are allowed", file=uri
        )
    try:
        with _OPENER.open(uri, timeout=10) as resp:
            raw = resp.read(limits.max_bytes + 1)
    except urllib.error.HTTPError as exc:
        raise SourceError(f"cannot fetch: HTTP {exc.code} {exc.reason}", file=uri) from None
    except (OSError, ValueError) as exc:
        raise SourceError(f"cannot fetch: {exc}", file=uri) from None
    if len(raw) > limits.max_bytes:
        raise SourceError(f"response is over the limit of {limits.max_bytes:,} bytes", file=uri)
    return _decode(raw, uri)


def _decode(raw: bytes, uri: str) -> str:
    encoding = "utf-8-sig"
    if raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        encoding = "utf-16"  # YAML allows it, with a byte order mark
    try:
        return raw.decode(encoding)
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        column = exc.start - raw.rfind(b"\n", 0, exc.start)
        raise ParseError(
            f"not UTF-8 text (byte 0x{raw[exc.start]:02x} at offset {exc.start:,})",
            file=uri,
            line=line,
            column=column,
        ) from None


def check_size(text: str, uri: str, limits: Limits) -> None:
    """Apply ``limits.max_bytes`` to text that did not come from a file."""
    if len(text) > limits.max_bytes or (
        len(text) * 4 > limits.max_bytes
        and len(text.encode("utf-8", "surrogatepass")) > limits.max_bytes
    ):
        raise SourceError(f"text is over the limit of {limits.max_bytes:,} bytes", file=uri)


def parse(text: str, uri: str, limits: Limits) -> Source:
    """Parse JSON or YAML text into a :class:`Source`. Raises :class:`ParseError`."""
    from apiward.core.yamlload import load_yaml

    if text.lstrip()[:1] not in ("{", "["):
        return Source(uri, text, load_yaml(text, uri, limits), "yaml")
    try:
        return Source(uri, text, json.loads(text), "json")
    except json.JSONDecodeError as exc:
        json_error = ParseError(
            f"invalid JSON: {exc.msg}", file=uri, line=exc.lineno, column=exc.colno
        )
    except ValueError as exc:  # e.g. an integer over Python's 4,300-digit limit
        raise ParseError(f"invalid JSON: {exc}", file=uri) from None
    except RecursionError:
        raise ParseError(
            "JSON nested too deeply (Python's parser stops at about 1,000 levels)", file=uri
        ) from None
    if uri.lower().endswith(".json"):
        raise json_error
    try:  # YAML flow style also starts with '{'
        return Source(uri, text, load_yaml(text, uri, limits), "yaml")
    except ParseError:
        raise json_error from None
