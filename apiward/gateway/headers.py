"""Header checks against bypass and smuggling, the headers to forward, the client's address.

Pure functions over ASGI headers (``list[tuple[bytes, bytes]]``, names as received;
ASGI servers lowercase them, these functions do not rely on it). The gateway
calls them once per request, before authentication::

    check_framing(headers)                 # smuggling: refuse before reading a body
    check_method_override(headers, query)  # the method routed on is the method served
    check_url_override(headers)            # the path routed on is the path served
    ip = client_ip(peer, headers, trusted) # for allow-lists, rate limits, the audit log
    ...                                    # authenticate, authorise, validate
    out = strip_identity_headers(hop_by_hop(headers), IDENTITY)  # then add our own

Refusals raise :class:`~apiward.gateway.canonical.AmbiguousRequest` (answer 400).

Header names are compared case-insensitively and with ``_`` read as ``-``: CGI and
WSGI map ``X-Http-Method-Override`` and ``X_Http_Method_Override`` to the same
``HTTP_X_HTTP_METHOD_OVERRIDE``, so an upstream may read either spelling as the other.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable, Sequence
from functools import lru_cache
from urllib.parse import unquote_to_bytes

from apiward.gateway.canonical import AmbiguousRequest

__all__ = [
    "HOP_BY_HOP",
    "Headers",
    "IPNetwork",
    "check_framing",
    "check_method_override",
    "check_query_controls",
    "check_url_override",
    "client_ip",
    "hop_by_hop",
    "host_name",
    "screen",
    "strip_identity_headers",
]

Headers = list[tuple[bytes, bytes]]
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
_IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

# RFC 9110 §7.6.1 and the non-standard ones proxies still see (Proxy-Connection, Keep-Alive)
HOP_BY_HOP = frozenset(
    {
        b"connection",
        b"keep-alive",
        b"proxy-connection",
        b"te",
        b"trailer",
        b"transfer-encoding",
        b"upgrade",
        b"proxy-authorization",
        b"proxy-authenticate",
    }
)
# Never dropped on a client's Connection say-so: without Host the upstream reads another site.
_KEEP = frozenset({b"host"})
_METHOD_OVERRIDE = frozenset({b"x-http-method-override", b"x-http-method", b"x-method-override"})
# Symfony, Zend and IIS rewrite modules route on these instead of the request line.
_URL_OVERRIDE = frozenset({b"x-original-url", b"x-rewrite-url", b"x-override-url"})
_OWS = b" \t"
_MAX_CL_DIGITS = 18  # fits an int64 everywhere downstream


def _norm(name: bytes) -> bytes:
    name = name.lower()
    return name.replace(b"_", b"-") if b"_" in name else name


def check_method_override(headers: Headers, query: bytes = b"") -> None:
    """Refuse method-override headers and a ``_method`` query parameter.

    Frameworks that honour them (Rails, Laravel, Express's method-override,
    Spring's HiddenHttpMethodFilter) would run a DELETE the gateway checked as a
    POST. A ``_method`` field in a form body is the same trick; that needs the
    body and belongs to body validation.
    """
    for name, _ in headers:
        key = name.lower()
        if b"_" in key:
            key = key.replace(b"_", b"-")
        if key in _METHOD_OVERRIDE:
            raise AmbiguousRequest(
                f"method-override header {name.decode('latin-1')!r} refused", "method.override"
            )
    if query and (b"%" in query or b"method" in query.lower()):
        for pair in query.replace(b";", b"&").split(b"&"):
            key = unquote_to_bytes(pair.partition(b"=")[0].replace(b"+", b" "))
            if key.strip().lower() == b"_method":
                raise AmbiguousRequest("'_method' query parameter refused", "method.override")


# RFC 9110 §7.2 / RFC 3986 §3.2.2: a host name, an IPv4 address or a bracketed IPv6 one,
# and an optional port; no user info, path or spaces ("api.example:1@evil.example")
_HOST = re.compile(
    rb"(?:\[[0-9a-f:.]+\]|[a-z0-9_](?:[a-z0-9_-]*[a-z0-9_])?(?:\.[a-z0-9_](?:[a-z0-9_-]*[a-z0-9_])?)*\.?)"
    rb"(?::[0-9]{1,5})?",
    re.IGNORECASE,
)


def host_name(value: bytes | str) -> str | None:
    """A ``Host`` value's name: lower case, no port, no brackets or final dot; None if invalid.

    ``API.Example.:443`` -> ``api.example``; ``[::1]:80`` -> ``::1``.
    """
    raw = value.encode("latin-1") if isinstance(value, str) else value
    if not _HOST.fullmatch(raw):
        return None
    text = raw.decode("ascii").lower()
    if text.startswith("["):
        return text[1:].partition("]")[0]
    return text.partition(":")[0].rstrip(".")


# percent-encoded control characters: C0 and DEL (TAB, %09, is ordinary text), C1 in UTF-8
# (%C2%80-%C2%9F: NEL ...), U+2028/U+2029 (line and paragraph separators), overlong UTF-8
# (%C0, %C1: a NUL or slash in disguise) and IIS's %u00XX spelling of the same
_CONTROL_ESCAPE = re.compile(
    rb"%(?:0[0-8a-f]|1[0-9a-f]|7f|c2%[89][0-9a-f]|e2%80%a[89]|c[01]|u00[01][0-9a-f]|u007f)",
    re.IGNORECASE,
)


def check_query_controls(query: bytes) -> None:
    """Refuse control characters encoded in the query string (``%00``, ``%0d%0a`` ...).

    A NUL cuts strings short in C code and some databases; CR LF written into a log or a
    header the upstream builds from a parameter forges lines (response splitting). No
    query parameter needs them: such text belongs in a body. The path's are refused by
    :func:`~apiward.gateway.canonical.canonical_path`; raw ones never reach this far.
    """
    found = _CONTROL_ESCAPE.search(query)
    if found is not None:
        raise AmbiguousRequest(
            f"control character {found.group().decode()} in the query string",
            "query.control_character",
        )


def check_url_override(headers: Headers) -> None:
    """Refuse ``X-Original-URL``/``X-Rewrite-URL``: upstreams that honour them route there."""
    for name, _ in headers:
        key = name.lower()
        if b"_" in key:
            key = key.replace(b"_", b"-")
        if key in _URL_OVERRIDE:
            raise AmbiguousRequest(
                f"URL-override header {name.decode('latin-1')!r} refused", "path.override"
            )


def check_framing(headers: Headers) -> int | None:
    """Refuse ambiguous message framing (request smuggling); return the declared length.

    Refused: ``Content-Length`` together with ``Transfer-Encoding``; several
    ``Content-Length`` values that differ; one that is not plain decimal digits
    (``+5``, ``0x5``, ``1e3``, empty); a ``Transfer-Encoding`` other than exactly
    ``chunked``; framing headers spelt with ``_`` or spaces in the name; more than
    one ``Host`` (RFC 9112 §3.2). Returns the ``Content-Length`` (``None`` when
    absent or chunked) for the body-size limit to start from.
    """
    lengths: list[bytes] = []
    codings: list[bytes] = []
    hosts = 0
    for name, value in headers:
        low = name.lower()
        if low == b"content-length":
            lengths.extend(v.strip(_OWS) for v in value.split(b","))
        elif low == b"transfer-encoding":
            codings.extend(v.strip(_OWS).lower() for v in value.split(b","))
        elif low == b"host":
            hosts += 1
        else:
            spelt = _norm(low.strip(_OWS))
            if spelt in (b"content-length", b"transfer-encoding", b"host"):
                raise AmbiguousRequest(
                    f"framing header spelt {name.decode('latin-1')!r}", "framing.header_name"
                )
    if hosts > 1:
        raise AmbiguousRequest("more than one Host header", "framing.host")
    if codings:
        if lengths:
            raise AmbiguousRequest("both Content-Length and Transfer-Encoding", "framing.cl_te")
        if codings != [b"chunked"]:
            shown = b", ".join(codings).decode("latin-1")
            raise AmbiguousRequest(
                f"Transfer-Encoding {shown!r} (only 'chunked' is accepted)", "framing.te"
            )
        return None
    if not lengths:
        return None
    first = lengths[0]
    for value in lengths:
        if not value.isdigit() or len(value) > _MAX_CL_DIGITS:
            raise AmbiguousRequest(
                f"invalid Content-Length {value[:24].decode('latin-1')!r}", "framing.cl"
            )
        if value != first:
            raise AmbiguousRequest("Content-Length values differ", "framing.cl")
    return int(first)


# Names that need no check: the common ones, lower-case, no '_'. Anything else goes
# through the slow path, so an unusual spelling of a dangerous name is always seen.
_PLAIN = frozenset(
    {
        b"accept",
        b"accept-encoding",
        b"accept-language",
        b"authorization",
        b"cache-control",
        b"connection",
        b"content-type",
        b"cookie",
        b"if-match",
        b"if-none-match",
        b"if-modified-since",
        b"origin",
        b"pragma",
        b"referer",
        b"user-agent",
        b"x-request-id",
    }
)
_FRAMING_NAMES = (b"content-length", b"transfer-encoding", b"host")


def screen(headers: Headers, query: bytes = b"", http11: bool = False) -> int | None:
    """:func:`check_framing`, :func:`check_method_override`, :func:`check_url_override`
    and :func:`check_query_controls` in one pass over the headers (the gateway's hot path);
    returns the Content-Length.

    ``http11``: the request is HTTP/1.1, which must carry one ``Host`` (RFC 9112 §3.2:
    a server answers 400 to one without).
    """
    lengths: list[bytes] = []
    codings: list[bytes] = []
    hosts = 0
    for name, value in headers:
        low = name.lower()
        if low in _PLAIN:
            continue
        if low == b"host":
            hosts += 1
            if value and _HOST.fullmatch(value) is None:
                raise AmbiguousRequest("a Host that is not host[:port]", "framing.host_invalid")
        elif low == b"content-length":
            lengths.extend(v.strip(_OWS) for v in value.split(b","))
        elif low == b"transfer-encoding":
            codings.extend(v.strip(_OWS).lower() for v in value.split(b","))
        else:
            key = _norm(low.strip(_OWS))
            if key in _FRAMING_NAMES:
                raise AmbiguousRequest(
                    f"framing header spelt {name.decode('latin-1')!r}", "framing.header_name"
                )
            if key in _METHOD_OVERRIDE:
                raise AmbiguousRequest(
                    f"method-override header {name.decode('latin-1')!r} refused",
                    "method.override",
                )
            if key in _URL_OVERRIDE:
                raise AmbiguousRequest(
                    f"URL-override header {name.decode('latin-1')!r} refused", "path.override"
                )
    if query and (b"%" in query or b"method" in query.lower()):
        check_method_override([], query)  # its own pre-check, inlined: queries rarely qualify
        if b"%" in query:
            check_query_controls(query)
    if http11 and not hosts:
        raise AmbiguousRequest("an HTTP/1.1 request without Host", "framing.host_missing")
    if hosts > 1 or codings or lengths:
        # rare: the full check decides (and words the refusal) once
        return check_framing([(b"host", b"")] * hosts + _framing(lengths, codings))
    return None


def _framing(lengths: list[bytes], codings: list[bytes]) -> Headers:
    out: Headers = [(b"content-length", v) for v in lengths]
    return out + [(b"transfer-encoding", v) for v in codings]


def hop_by_hop(headers: Headers) -> Headers:
    """The headers to forward: RFC 9110 hop-by-hop ones and those ``Connection`` names removed.

    ``Host`` is kept even when ``Connection`` names it. Dropping ``Upgrade`` means
    WebSocket and h2c upgrades are not forwarded; ``TE: trailers`` (gRPC) is the
    upstream client's to add.
    """
    drop = HOP_BY_HOP
    keys: list[bytes] = []
    for name, value in headers:
        key = name.lower()
        if b"_" in key:
            key = key.replace(b"_", b"-")
        if key == b"connection":
            listed = {_norm(v.strip(_OWS)) for v in value.split(b",")}
            drop = drop | (listed - _KEEP)
        keys.append(key)
    return [pair for pair, key in zip(headers, keys, strict=True) if key not in drop]


@lru_cache(maxsize=64)
def _names(names: frozenset[str | bytes]) -> frozenset[bytes]:
    return frozenset(_norm(n.encode("latin-1") if isinstance(n, str) else n) for n in names)


def strip_identity_headers(
    headers: Headers,
    names: Iterable[str | bytes],
    prefixes: Iterable[str | bytes] = (),
) -> Headers:
    """``headers`` without client-supplied copies of the headers the gateway sets.

    ``names`` (e.g. ``X-Apiward-User``) match case-insensitively and with ``_``
    for ``-``; ``prefixes`` (e.g. ``X-Apiward-``) drop a whole family. Pass
    ``names`` as a frozenset to have its normal form cached.
    """
    wanted = _names(names if isinstance(names, frozenset) else frozenset(names))
    starts = tuple(_names(frozenset(prefixes))) if prefixes else ()
    out: Headers = []
    for name, value in headers:
        key = name.lower()
        if b"_" in key:
            key = key.replace(b"_", b"-")
        if key in wanted or (starts and key.startswith(starts)):
            continue
        out.append((name, value))
    return out


@lru_cache(maxsize=4096)
def _address(text: str) -> _IPAddress | None:
    """An address from a peer or forwarding entry (port, brackets, quotes allowed), else None."""
    text = text.strip(' \t"')
    if text.startswith("["):
        text = text[1:].partition("]")[0]
    elif text.count(":") == 1:
        text = text.partition(":")[0]
    try:
        addr = ipaddress.ip_address(text)
    except ValueError:
        return None
    if isinstance(addr, ipaddress.IPv6Address) and addr.ipv4_mapped is not None:
        return addr.ipv4_mapped
    return addr


@lru_cache(maxsize=4096)
def _peer(text: str) -> tuple[_IPAddress | None, str]:
    """:func:`_address` of a peer and its text form (``str()`` of an address costs ~1 µs)."""
    addr = _address(text)
    return addr, text if addr is None else str(addr)


def _forwarded_for(element: str) -> str:
    """The ``for=`` node of one RFC 7239 ``Forwarded`` element ("" when missing)."""
    for pair in element.split(";"):
        key, _, value = pair.partition("=")
        if key.strip().lower() == "for":
            return value
    return ""


def client_ip(
    peer: str,
    headers: Headers,
    trusted_proxies: Iterable[IPNetwork],
    *,
    header: str = "x-forwarded-for",
    strict: bool = False,
    max_hops: int = 16,
) -> str:
    """The client's address: ``peer``, or what trusted proxies in front of it say.

    The forwarding header (``x-forwarded-for``, or ``forwarded`` for RFC 7239: one
    of them, the one the proxies write, since a client can send the other) is
    read only when ``peer`` is in ``trusted_proxies``. Its entries are walked
    right to left, each trusted hop vouching for the one before it; the first
    untrusted one is the client. A malformed entry (or ``unknown``, an obfuscated
    name, more than ``max_hops`` trusted hops) ends the walk at the last address
    vouched for, a trusted proxy; with ``strict`` it raises
    :class:`AmbiguousRequest` instead. Keep proxies' own addresses out of allow-lists.
    Addresses come back normalised (``::ffff:10.0.0.1`` as ``10.0.0.1``).
    """
    current, shown = _peer(peer)
    if current is None:
        return peer  # a Unix socket or no peer at all: nobody to trust
    nets = trusted_proxies if isinstance(trusted_proxies, (list, tuple)) else list(trusted_proxies)
    if not nets or not _trusted(current, nets):
        return shown
    key = header.lower().encode()
    values = [v.decode("latin-1") for n, v in headers if n.lower() == key]
    if not values:
        return str(current)
    entries = ",".join(values).rsplit(",", max_hops)
    forwarded = key == b"forwarded"
    # past max_hops the leftmost piece still holds commas, so it reads as malformed
    for entry in reversed(entries):
        hop = _address(_forwarded_for(entry) if forwarded else entry)
        if hop is None:
            if strict:
                raise AmbiguousRequest(
                    f"malformed or overlong {header} from a trusted proxy", "client.forwarded"
                )
            return str(current)
        current = hop
        if not _trusted(hop, nets):
            return str(hop)
    return str(current)


def _trusted(addr: _IPAddress, nets: Sequence[IPNetwork]) -> bool:
    return any(addr in net for net in nets)
