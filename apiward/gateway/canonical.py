"""One canonical form of the request path, or a refusal when the path is ambiguous.

Path-confusion bypasses (``/admin%2f..``, ``/..;/admin``, ``/%2e%2e/admin``,
``/admin%252f``, fullwidth dots ...) work when the gateway routes on one reading
of the path and the upstream acts on another. The cure is to decide on *one*
reading, route on it, and forward exactly that string; whatever an upstream
could read differently is refused instead (the gateway answers 400).

How the gateway calls it, once per request before routing::

    try:
        path = canonical_path(scope["raw_path"], policy)   # ASGI raw_path: no query
    except AmbiguousRequest as exc:
        return deny(400, exc.code)                          # exc.reason names the problem
    match = router.match(method, path)                      # route on ``path`` ...
    forward(path + ("?" + query if query else ""))          # ... and forward ``path``

As ASGI middleware, set ``scope["raw_path"] = path.encode()`` and
``scope["path"] = unquote(path)`` before calling the app, for the same reason.

The canonical form (``PathPolicy`` defaults):

* ASCII only, starts with ``/``. Percent-escapes of ``A-Z a-z 0-9 - . _ ~ ! $ & '
  ( ) * + , = : @`` are decoded (every mainstream upstream decodes them to the
  same character, so literal segments must match in that form); every other
  byte is percent-encoded with uppercase hex (raw UTF-8 included), so path
  parameters come back encoded and never cross a ``/``.
* Refused: encoded ``/`` ``\\`` ``;`` ``%`` (the last is double encoding:
  ``%252f``), malformed escapes (``%zz``, ``%u002f``), raw ``\\`` ``;``
  (matrix parameters: Tomcat and Spring cut ``/admin;x=y`` to ``/admin``)
  ``?`` ``#`` and spaces, control and format characters, invalid or overlong
  UTF-8, non-ASCII characters that compatibility-normalise or case-map to ASCII
  (fullwidth full stop U+FF0E, solidus U+FF0F and letters, Kelvin sign U+212A,
  dotless i U+0131: servers applying NFKC or Unicode case rules read them as
  ``.``, ``/``, ``k``, ``I``), segments that
  decode to ``.``/``..`` without being written so (``%2e%2e``, ``.%2E``) and
  look-alikes of them (``...``, ``.. ``: Windows drops trailing dots and
  spaces), anything not in origin form (``*``, ``http://host/...``), paths over
  ``max_length`` bytes or ``max_segments`` segments.
* ``.`` and ``..`` segments are refused by default: RFC 3986 §5.2.4 has clients
  remove them before sending, so they come only from probes. ``dot_segments=
  "resolve"`` resolves them instead (``..`` above the root is still refused);
  safe because the resolved form is what gets forwarded.
* Empty segments (``//admin``, ``/a//b``) are merged by default (sloppy clients
  join URLs that way; nginx and Spring merge them too), refused with
  ``empty_segments="reject"``.
* A trailing slash is kept (``strict``: the router then refuses it unless the
  spec has one) or removed (``strip``).
* Case is kept: OpenAPI paths are case-sensitive. For an upstream that matches
  paths case-insensitively, route on :func:`fold_case` of the result too (and
  build that router from folded templates): refuse when the two readings pick
  different operations.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from typing import Literal

from apiward.errors import InputError

__all__ = ["DEFAULT_POLICY", "AmbiguousRequest", "PathPolicy", "canonical_path", "fold_case"]


class AmbiguousRequest(InputError):
    """A request that components could read differently; the gateway answers ``status``.

    ``code`` is a short stable identifier for metrics and the audit log
    (``path.encoded_slash``, ``framing.cl_te``, ...); ``reason`` says what is wrong.
    """

    status = 400

    def __init__(self, reason: str, code: str) -> None:
        super().__init__(reason)
        self.code = code


@dataclass(frozen=True, slots=True)
class PathPolicy:
    """How :func:`canonical_path` treats what has more than one safe reading."""

    dot_segments: Literal["reject", "resolve"] = "reject"
    empty_segments: Literal["merge", "reject"] = "merge"
    trailing_slash: Literal["strict", "strip"] = "strict"
    max_length: int = 2048
    max_segments: int = 64


DEFAULT_POLICY = PathPolicy()

_SAFE_CHARS = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~!$&'()*+,=:@"
_SAFE_AND_SLASH = _SAFE_CHARS + b"/"
_HEX = frozenset(b"0123456789abcdefABCDEF")

_Why = tuple[str, str]  # (code, reason)


def _tables() -> tuple[list[str | None], list[str | None], dict[int, _Why], dict[int, _Why]]:
    raw_out: list[str | None] = []
    enc_out: list[str | None] = []
    raw_why: dict[int, _Why] = {}
    enc_why: dict[int, _Why] = {}
    control = ("path.control", "control character")
    for b in range(256):
        escaped = f"%{b:02X}"
        if b in _SAFE_CHARS:
            raw_out.append(chr(b))
            enc_out.append(chr(b))
            continue
        raw_out.append(escaped)
        enc_out.append(escaped)
        if b < 0x20 or b == 0x7F:
            raw_why[b] = enc_why[b] = control
    raw_why[ord(" ")] = ("path.space", "unencoded space")
    raw_why[ord("\\")] = ("path.backslash", "backslash (read as '/' by some servers)")
    raw_why[ord(";")] = ("path.matrix", "';' path parameter (servers strip or keep it)")
    raw_why[ord("?")] = raw_why[ord("#")] = ("path.syntax", "'?' or '#' inside the path")
    enc_why[ord("/")] = ("path.encoded_slash", "encoded '/' (%2F)")
    enc_why[ord("\\")] = ("path.encoded_backslash", "encoded backslash (%5C)")
    enc_why[ord(";")] = ("path.matrix", "encoded ';' (%3B)")
    enc_why[ord("%")] = ("path.double_encoding", "encoded '%' (%25): double encoding")
    for table, why in ((raw_out, raw_why), (enc_out, enc_why)):
        for b in why:
            table[b] = None
    return raw_out, enc_out, raw_why, enc_why


_RAW_OUT, _ENC_OUT, _RAW_WHY, _ENC_WHY = _tables()
# Unicode categories with no business in a path: controls, format (zero-width, bidi), separators.
_BAD_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Zl", "Zp"})


def canonical_path(raw_path: bytes, policy: PathPolicy = DEFAULT_POLICY) -> str:
    """The one form of ``raw_path`` to route on and forward; see the module docstring.

    ``raw_path`` is the path as received (ASGI ``raw_path``), without the query.
    Raises :class:`AmbiguousRequest` for anything an upstream might read otherwise.
    """
    if len(raw_path) > policy.max_length:
        raise AmbiguousRequest(
            f"path longer than {policy.max_length} bytes ({len(raw_path)})", "path.too_long"
        )
    # the common case: only safe characters (translate deletes them, in C), no "//", no "/."
    if (
        not raw_path.translate(None, _SAFE_AND_SLASH)
        and raw_path[:1] == b"/"
        and b"//" not in raw_path
        and b"/." not in raw_path
        # without "//" every segment takes 2+ bytes, so short paths need no count
        and (
            len(raw_path) <= 2 * policy.max_segments or raw_path.count(b"/") <= policy.max_segments
        )
    ):
        path = raw_path.decode("ascii")
        if policy.trailing_slash == "strip" and len(path) > 1 and path[-1] == "/":
            return path[:-1]
        return path
    return _slow(raw_path, policy)


def _slow(raw_path: bytes, policy: PathPolicy) -> str:
    if not raw_path.startswith(b"/"):
        raise AmbiguousRequest(
            f"path {raw_path[:40]!r} is not in origin form (must start with '/')", "path.form"
        )
    parts = raw_path.split(b"/")[1:]
    if len(parts) > policy.max_segments:
        raise AmbiguousRequest(f"path has more than {policy.max_segments} segments", "path.depth")
    trailing = len(parts) > 1 and not parts[-1]
    if trailing:
        parts.pop()
    out: list[str] = []
    last = len(parts) - 1
    for index, part in enumerate(parts):
        if not part:
            if policy.empty_segments == "reject":
                raise AmbiguousRequest("empty path segment ('//')", "path.empty_segment")
            continue
        seg, decoded = _segment(part)
        if decoded in (".", ".."):
            if part != decoded.encode():
                raise AmbiguousRequest(f"encoded dot segment {_show(part)}", "path.encoded_dot")
            if policy.dot_segments == "reject":
                raise AmbiguousRequest(f"dot segment {_show(part)}", "path.dot_segment")
            if decoded == "..":
                if not out:
                    raise AmbiguousRequest("'..' climbs above the root", "path.traversal")
                out.pop()
            # RFC 3986 §5.2.4: a final dot segment leaves the directory, its slash included
            if index == last:
                trailing = bool(out)
            continue
        if not decoded.strip(". "):
            raise AmbiguousRequest(
                f"segment {_show(part)} of only dots and spaces (Windows drops them)",
                "path.dot_lookalike",
            )
        if decoded[0] == " " or decoded[-1] == " ":
            # Windows drops trailing spaces; Spring's AntPathMatcher used to trim them
            raise AmbiguousRequest(
                f"segment {_show(part)} starts or ends with a space", "path.whitespace"
            )
        out.append(seg)
    if trailing and policy.trailing_slash == "strict":
        out.append("")
    return "/" + "/".join(out)


def _segment(part: bytes) -> tuple[str, str]:
    """(canonical text, once-decoded text) of one segment; raises on what is refused."""
    if not part.translate(None, _SAFE_CHARS):
        text = part.decode("ascii")
        return text, text
    chars: list[str] = []
    decoded = bytearray()
    pieces = part.split(b"%")
    _literal(pieces[0], part, chars, decoded)
    for piece in pieces[1:]:
        if len(piece) < 2 or piece[0] not in _HEX or piece[1] not in _HEX:
            raise AmbiguousRequest(
                f"malformed percent-encoding {_show(b'%' + piece[:4])}", "path.bad_escape"
            )
        b = int(piece[:2], 16)
        escape = _ENC_OUT[b]
        if escape is None:
            code, why = _ENC_WHY[b]
            raise AmbiguousRequest(f"{why} in {_show(part)}", code)
        chars.append(escape)
        decoded.append(b)
        if len(piece) > 2:
            _literal(piece[2:], part, chars, decoded)
    if decoded.isascii():
        return "".join(chars), decoded.decode("ascii")
    try:
        value = decoded.decode("utf-8")
    except UnicodeDecodeError:
        raise AmbiguousRequest(
            f"segment {_show(part)} is not valid UTF-8 (or is overlong)", "path.utf8"
        ) from None
    _check_unicode(value, part)
    return "".join(chars), value


def _literal(run: bytes, part: bytes, chars: list[str], decoded: bytearray) -> None:
    """Append an unescaped run of a segment, encoding or refusing bytes outside the safe set."""
    decoded += run
    if not run.translate(None, _SAFE_CHARS):
        chars.append(run.decode("ascii"))
        return
    for b in run:
        text = _RAW_OUT[b]
        if text is None:
            code, why = _RAW_WHY[b]
            raise AmbiguousRequest(f"{why} in {_show(part)}", code)
        chars.append(text)


def _check_unicode(value: str, part: bytes) -> None:
    for ch in value:
        if ch.isascii():
            continue
        if unicodedata.category(ch) in _BAD_CATEGORIES:
            raise AmbiguousRequest(
                f"invisible or control character U+{ord(ch):04X} in {_show(part)}",
                "path.control",
            )
        # NFKC folds U+FF0E (fullwidth) to "."; case maps take U+0131 to "I", U+212A to "k":
        # a character reaching ASCII that way lets a server applying the rule read another path.
        for variant in (unicodedata.normalize("NFKC", ch), ch.upper(), ch.lower()):
            if variant != ch and any(c.isascii() for c in variant):
                raise AmbiguousRequest(
                    f"character U+{ord(ch):04X} in {_show(part)} normalises to {variant!r}",
                    "path.confusable",
                )


def fold_case(path: str) -> str:
    """``path`` with ASCII letters lowercased and percent-escapes left uppercase.

    Canonical paths hold only ASCII (non-ASCII is percent-encoded), so this is
    the whole case-insensitive reading of one.
    """
    if "%" not in path:
        return path.lower()
    head, *rest = path.split("%")
    return head.lower() + "".join("%" + s[:2] + s[2:].lower() for s in rest)


def _show(raw: bytes) -> str:
    """A bounded, printable rendering of client bytes for an error message."""
    return repr(raw[:60].decode("utf-8", "backslashreplace"))
