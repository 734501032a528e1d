"""CORS decided by the gateway: preflights answered, response headers set, upstream's dropped.

Pure functions over ASGI headers (``list[tuple[bytes, bytes]]``). Build one
:class:`CorsPolicy` at load; per request::

    answer = policy.preflight(method, headers, methods_of_the_path)
    if answer is not None:
        status, extra = answer          # 204 or 403: send it, do not call upstream
    ...
    out = policy.response_headers(request_headers, upstream_response_headers)

Origins are exact (``https://app.example.com``), ``*`` (any origin, refused together
with credentials), or a wildcard subdomain ``https://*.example.com`` that matches one or
more DNS labels in front of ``.example.com`` with the same scheme and port, and nothing
else: not ``https://example.com`` (list it too), not ``https://evil-example.com``, not
``https://example.com.evil.net``. The ``null`` origin (sandboxed frames, ``file:``,
some redirects: anyone can make a browser send it) is admitted only when listed literally,
``*`` included. The answer names the request's origin, never ``*`` with credentials, and
every response carries ``Vary: Origin`` so a cache never serves one origin's answer to
another. Any ``Access-Control-*`` header the upstream sent is removed: the policy decides.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from urllib.parse import urlsplit

from apiward.errors import ConfigError

__all__ = ["CorsPolicy", "Headers"]

Headers = list[tuple[bytes, bytes]]

# Fetch: headers a browser may send without asking, for which allowing them is implied
_SAFELISTED = frozenset({"accept", "accept-language", "content-language", "content-type"})
_DEFAULT_PORTS = {"http": 80, "https": 443}
_LABEL_CHARS = frozenset("abcdefghijklmnopqrstuvwxyz0123456789-")
_MAX_ORIGIN = 2048  # far longer than any real origin; bounds the work on hostile input
_TOKEN = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")  # RFC 9110 token
_PREFLIGHT_VARY = b"Origin, Access-Control-Request-Method, Access-Control-Request-Headers"


class CorsPolicy:
    """Which cross-origin browser callers may read the API's answers."""

    __slots__ = (
        "_any_origin",
        "_exact",
        "_expose",
        "_headers",
        "_headers_any",
        "_max_age",
        "_methods",
        "_wildcards",
        "allow_credentials",
    )

    def __init__(
        self,
        allow_origins: Sequence[str],
        allow_methods: Sequence[str] | None = None,
        allow_headers: Sequence[str] = (),
        expose_headers: Sequence[str] = (),
        allow_credentials: bool = False,
        max_age: int = 600,
    ) -> None:
        """``allow_methods=None`` (or ``["*"]``): the methods the spec declares for the path.

        ``allow_headers=["*"]`` admits any request header by echoing the ones asked for.
        """
        if isinstance(allow_origins, str):
            raise ConfigError("expected a list of origins, not one string", key="allow_origins")
        self.allow_credentials = allow_credentials
        self._any_origin = False
        exact: set[str] = set()
        wildcards: list[tuple[str, str]] = []
        for entry in allow_origins:
            if entry == "*":
                if allow_credentials:
                    raise ConfigError(
                        "'*' cannot be combined with allow_credentials: list the origins "
                        "that may send credentials",
                        key="allow_origins",
                    )
                self._any_origin = True
            elif entry == "null":
                exact.add("null")
            elif "*" in entry:
                wildcards.append(_wildcard(entry))
            else:
                exact.add(_origin(entry))
        self._exact = frozenset(exact)
        self._wildcards = tuple(wildcards)
        self._methods = (
            None
            if allow_methods is None or "*" in allow_methods
            else frozenset(m.upper() for m in allow_methods)
        )
        names = [_token(h, "allow_headers").lower() for h in allow_headers]
        self._headers_any = "*" in names
        self._headers = frozenset(n for n in names if n != "*")
        expose = [_token(h, "expose_headers") for h in expose_headers]
        if allow_credentials and "*" in expose:
            # with credentials browsers read "*" as a header named "*": a silent no-op
            raise ConfigError("'*' cannot be combined with allow_credentials", key="expose_headers")
        self._expose = ", ".join(expose).encode("latin-1") if expose else b""
        if max_age < 0:
            raise ConfigError("must be zero or more seconds", key="max_age")
        self._max_age = str(max_age).encode()

    def origin_allowed(self, origin: str) -> bool:
        """Whether a request from ``origin`` (the ``Origin`` header, as sent) may be answered."""
        if origin in self._exact:
            return True
        if origin == "null" or len(origin) > _MAX_ORIGIN:
            return False
        if self._any_origin:
            return True
        return any(_subdomain_of(origin, prefix, suffix) for prefix, suffix in self._wildcards)

    def preflight(
        self, method: str, headers: Headers, allowed_methods_for_path: Iterable[str]
    ) -> tuple[int, Headers] | None:
        """The answer to a CORS preflight, or ``None`` when the request is not one.

        A preflight is ``OPTIONS`` with ``Origin`` and ``Access-Control-Request-Method``.
        It gets 204 with the grants when the origin, the method and every requested
        header are allowed, else 403 without any grant.
        """
        if method != "OPTIONS":
            return None
        origin = _single(headers, b"origin")
        requested = _single(headers, b"access-control-request-method")
        if origin is None or requested is None:
            return None
        refused = (403, [(b"vary", _PREFLIGHT_VARY)])
        if origin is _AMBIGUOUS or requested is _AMBIGUOUS or not self.origin_allowed(origin):
            return refused
        methods = {m.upper() for m in allowed_methods_for_path}
        if self._methods is not None:
            methods &= self._methods
        if requested not in methods:  # methods are case-sensitive (Fetch): "delete" is not DELETE
            return refused
        asked = _single(headers, b"access-control-request-headers")
        if asked is _AMBIGUOUS:
            return refused
        wanted = [n.strip().lower() for n in (asked or "").split(",") if n.strip()]
        if not self._headers_any and any(
            n not in self._headers and n not in _SAFELISTED for n in wanted
        ):
            return refused
        out = self._grant(origin)
        out.append((b"access-control-allow-methods", ", ".join(sorted(methods)).encode()))
        if wanted:
            out.append((b"access-control-allow-headers", ", ".join(wanted).encode("latin-1")))
        out.append((b"access-control-max-age", self._max_age))
        out.append((b"vary", _PREFLIGHT_VARY))
        return 204, out

    def response_headers(self, request_headers: Headers, response_headers: Headers) -> Headers:
        """``response_headers`` with the upstream's CORS headers replaced by the policy's."""
        out: Headers = []
        vary_at = -1
        for name, value in response_headers:
            low = name.lower()
            if low.startswith(b"access-control-"):
                continue
            if low == b"vary" and vary_at < 0:
                vary_at = len(out)
            out.append((name, value))
        _add_vary(out, vary_at)
        origin = _single(request_headers, b"origin")
        if origin is None or origin is _AMBIGUOUS or not self.origin_allowed(origin):
            return out
        out.extend(self._grant(origin))
        if self._expose:
            out.append((b"access-control-expose-headers", self._expose))
        return out

    def _grant(self, origin: str) -> Headers:
        if self._any_origin and origin not in self._exact:
            return [(b"access-control-allow-origin", b"*")]  # never with credentials (refused)
        out = [(b"access-control-allow-origin", origin.encode("latin-1"))]
        if self.allow_credentials:
            out.append((b"access-control-allow-credentials", b"true"))
        return out


_AMBIGUOUS = "\x00ambiguous"  # sentinel: a header sent twice is refused, never guessed at


def _single(headers: Headers, name: bytes) -> str | None:
    found: str | None = None
    for key, value in headers:
        if key.lower() == name:
            if found is not None:
                return _AMBIGUOUS
            found = value.decode("latin-1").strip()
    return found


def _add_vary(out: Headers, at: int) -> None:
    if at < 0:
        out.append((b"vary", b"Origin"))
        return
    # Vary may be spread over several headers: look at all of them before adding
    tokens = {t.strip().lower() for n, v in out if n.lower() == b"vary" for t in v.split(b",") if t}
    if b"*" in tokens or b"origin" in tokens:
        return
    name, value = out[at]
    out[at] = (name, value + b", Origin" if value.strip() else b"Origin")


def _token(name: str, key: str) -> str:
    name = name.strip()
    if name != "*" and not _TOKEN.fullmatch(name):
        raise ConfigError(f"{name!r} is not a header name", key=key)
    return name


def _origin(entry: str) -> str:
    """The serialised origin a browser sends for a configured one (lowercase, no default port)."""
    text = entry.strip()
    parts = urlsplit(text)
    try:
        port = parts.port
    except ValueError:
        port = -1
    if (
        parts.scheme not in ("http", "https")
        or not parts.hostname
        or port == -1
        or parts.path not in ("", "/")
        or parts.query
        or parts.fragment
        or parts.username is not None
        or "*" in text
    ):
        raise ConfigError(
            f"{entry!r} is not an origin (scheme://host[:port], e.g. https://app.example.com)",
            key="allow_origins",
        )
    host = parts.hostname
    if ":" in host:
        host = f"[{host}]"
    shown = "" if port is None or port == _DEFAULT_PORTS[parts.scheme] else f":{port}"
    return f"{parts.scheme}://{host}{shown}"


def _wildcard(entry: str) -> tuple[str, str]:
    """``https://*.example.com`` as (``https://``, ``.example.com``), checked for sanity."""
    scheme, sep, rest = entry.strip().lower().partition("://")
    if not sep or not rest.startswith("*.") or "*" in rest[1:]:
        raise ConfigError(
            f"{entry!r}: a wildcard must be the whole leftmost label (https://*.example.com)",
            key="allow_origins",
        )
    base = _origin(f"{scheme}://{rest[2:]}")
    host = urlsplit(base).hostname or ""
    if host.count(".") < 1 or host.replace(".", "").isdigit() or ":" in host:
        # *.com, *.localhost or an IP: far wider than anyone means
        raise ConfigError(
            f"{entry!r}: a wildcard needs a domain of at least two labels", key="allow_origins"
        )
    prefix = f"{scheme}://"
    return prefix, "." + base[len(prefix) :]


def _subdomain_of(origin: str, prefix: str, suffix: str) -> bool:
    if not (origin.startswith(prefix) and origin.endswith(suffix)):
        return False
    labels = origin[len(prefix) : len(origin) - len(suffix)]
    if not labels:
        return False
    # only DNS labels in front: no ":" (port), "/", "@" or "." tricks can reach here
    for label in labels.split("."):
        if (
            not label
            or len(label) > 63
            or label[0] == "-"
            or label[-1] == "-"
            or not _LABEL_CHARS.issuperset(label)
        ):
            return False
    return True
