"""Header hardening: overrides, framing (smuggling), hop-by-hop, identity headers, client IP."""

from __future__ import annotations

import ipaddress

import pytest

from apiward.gateway.canonical import AmbiguousRequest
from apiward.gateway.headers import (
    Headers,
    check_framing,
    check_method_override,
    check_url_override,
    client_ip,
    hop_by_hop,
    host_name,
    screen,
    strip_identity_headers,
)


def h(*pairs: tuple[str, str]) -> Headers:
    return [(n.encode(), v.encode()) for n, v in pairs]


# --- method and URL overrides ---------------------------------------------------------------


@pytest.mark.parametrize(
    "name",
    [
        "x-http-method-override",
        "X-HTTP-Method-Override",
        "x-http-method",
        "x-method-override",
        "X_HTTP_METHOD_OVERRIDE",  # CGI/WSGI read it as the dashed one
        "x-http_method-override",
    ],
)
def test_method_override_headers_refused(name: str) -> None:
    with pytest.raises(AmbiguousRequest) as caught:
        check_method_override(h((name, "DELETE")))
    assert caught.value.code == "method.override" and caught.value.status == 400


@pytest.mark.parametrize(
    "query",
    [b"_method=DELETE", b"a=1&_method=PUT", b"a=1;_method=PUT", b"_METHOD=put", b"%5Fmethod=x",
     b"_m%65thod=DELETE", b"_method", b"+_method=x"],
)  # fmt: skip
def test_method_override_query_refused(query: bytes) -> None:
    with pytest.raises(AmbiguousRequest, match="_method"):
        check_method_override([], query)


@pytest.mark.parametrize("query", [b"", b"method=x", b"http_method=GET", b"a=_method", b"q=%20"])
def test_ordinary_requests_pass_override_checks(query: bytes) -> None:
    headers = h(("host", "x"), ("x-method", "GET"), ("accept", "*/*"))
    check_method_override(headers, query)
    check_url_override(headers)


@pytest.mark.parametrize("name", ["X-Original-URL", "x-rewrite-url", "X_Original_URL"])
def test_url_override_headers_refused(name: str) -> None:
    with pytest.raises(AmbiguousRequest) as caught:
        check_url_override(h((name, "/admin")))
    assert caught.value.code == "path.override"


# --- framing: request smuggling -------------------------------------------------------------

SMUGGLING = [
    (h(("content-length", "5"), ("transfer-encoding", "chunked")), "framing.cl_te"),
    (h(("transfer-encoding", "chunked"), ("content-length", "0")), "framing.cl_te"),
    (h(("content-length", "5"), ("content-length", "6")), "framing.cl"),
    (h(("content-length", "5, 6")), "framing.cl"),
    (h(("content-length", "+5")), "framing.cl"),
    (h(("content-length", "-1")), "framing.cl"),
    (h(("content-length", "0x5")), "framing.cl"),
    (h(("content-length", "1e3")), "framing.cl"),
    (h(("content-length", "")), "framing.cl"),
    (h(("content-length", "5,")), "framing.cl"),
    (h(("content-length", "5 5")), "framing.cl"),
    (h(("content-length", "9" * 19)), "framing.cl"),
    ([(b"content-length", "\uff15".encode())], "framing.cl"),  # fullwidth digit five
    (h(("transfer-encoding", "gzip, chunked")), "framing.te"),
    (h(("transfer-encoding", "chunked, chunked")), "framing.te"),
    (h(("transfer-encoding", "chunked"), ("transfer-encoding", "identity")), "framing.te"),
    (h(("transfer-encoding", "xchunked")), "framing.te"),
    (h(("transfer-encoding", '"chunked"')), "framing.te"),
    (h(("transfer-encoding", "chunked\x0b")), "framing.te"),
    (h(("transfer-encoding", "")), "framing.te"),
    (h(("transfer_encoding", "chunked")), "framing.header_name"),
    (h(("content_length", "5")), "framing.header_name"),
    (h(("content-length ", "5")), "framing.header_name"),
    (h(("host", "a"), ("host", "b")), "framing.host"),
]


@pytest.mark.parametrize(("headers", "code"), SMUGGLING)
def test_ambiguous_framing_refused(headers: Headers, code: str) -> None:
    with pytest.raises(AmbiguousRequest) as caught:
        check_framing(headers)
    assert caught.value.code == code


@pytest.mark.parametrize(
    ("headers", "length"),
    [
        ([], None),
        (h(("host", "x")), None),
        (h(("content-length", "0")), 0),
        (h(("Content-Length", " 42 ")), 42),
        (h(("content-length", "7"), ("content-length", "7")), 7),  # identical: RFC 9112 §6.3
        (h(("content-length", "7, 7")), 7),
        (h(("transfer-encoding", "chunked")), None),
        (h(("Transfer-Encoding", "Chunked ")), None),
    ],
)
def test_unambiguous_framing_returns_the_length(headers: Headers, length: int | None) -> None:
    assert check_framing(headers) == length


# --- what is forwarded ----------------------------------------------------------------------


def test_hop_by_hop_headers_dropped() -> None:
    headers = h(
        ("host", "api"),
        ("connection", "keep-alive, Upgrade"),
        ("keep-alive", "timeout=5"),
        ("proxy-connection", "keep-alive"),
        ("te", "trailers"),
        ("trailer", "x-checksum"),
        ("transfer-encoding", "chunked"),
        ("upgrade", "websocket"),
        ("proxy-authorization", "Basic eDp5"),
        ("proxy-authenticate", "Basic"),
        ("Keep_Alive", "x"),
        ("authorization", "Bearer t"),
        ("accept", "*/*"),
    )
    assert hop_by_hop(headers) == h(
        ("host", "api"), ("authorization", "Bearer t"), ("accept", "*/*")
    )


def test_headers_named_in_connection_dropped_but_never_host() -> None:
    headers = h(
        ("host", "api"),
        ("connection", "close, X-Forwarded-For"),
        ("Connection", " x-internal ,HOST,, x_other"),
        ("x-forwarded-for", "10.0.0.1"),
        ("X-Internal", "yes"),
        ("x-other", "1"),
        ("x-kept", "1"),
    )
    assert hop_by_hop(headers) == h(("host", "api"), ("x-kept", "1"))


def test_client_copies_of_identity_headers_stripped() -> None:
    headers = h(
        ("x-apiward-user", "admin"),
        ("X-Apiward-Scopes", "admin:all"),
        ("X_Apiward_User", "admin"),
        ("x-apiward_scopes", "admin:all"),
        ("x-apiward-tenant", "other"),
        ("x-apiward-user-agent", "kept: not an identity header"),
        ("authorization", "Bearer t"),
    )
    names = frozenset({"X-Apiward-User", "X-Apiward-Scopes"})
    out = strip_identity_headers(headers, names)
    assert out == h(
        ("x-apiward-tenant", "other"),
        ("x-apiward-user-agent", "kept: not an identity header"),
        ("authorization", "Bearer t"),
    )
    assert strip_identity_headers(headers, ["x-apiward-user"], prefixes=["X-Apiward-"]) == h(
        ("authorization", "Bearer t")
    )
    assert strip_identity_headers(headers, [b"X-APIWARD-SCOPES", "x-apiward-user"]) == out


# --- client IP through trusted proxies only -------------------------------------------------

TRUSTED = [ipaddress.ip_network("10.0.0.0/8"), ipaddress.ip_network("fd00::/8")]


@pytest.mark.parametrize(
    ("peer", "headers", "expected"),
    [
        # the peer is not a proxy we trust: its headers are the client's say-so
        ("203.0.113.7", h(("x-forwarded-for", "127.0.0.1")), "203.0.113.7"),
        ("203.0.113.7", h(("x-forwarded-for", "10.0.0.1")), "203.0.113.7"),
        ("203.0.113.7", h(("forwarded", "for=10.0.0.1")), "203.0.113.7"),
        # one trusted proxy: its entry, the rightmost, is the client; the spoofed left part is not
        ("10.0.0.2", h(("x-forwarded-for", "198.51.100.9")), "198.51.100.9"),
        ("10.0.0.2", h(("x-forwarded-for", "127.0.0.1, 198.51.100.9")), "198.51.100.9"),
        ("10.0.0.2", h(("x-forwarded-for", "1.1.1.1"), ("x-forwarded-for", "2.2.2.2")), "2.2.2.2"),
        # a chain of trusted proxies is skipped right to left
        ("10.0.0.2", h(("x-forwarded-for", "6.6.6.6, 198.51.100.9, 10.1.1.1, 10.2.2.2")),
         "198.51.100.9"),
        ("10.0.0.2", h(("x-forwarded-for", "10.3.3.3, 10.1.1.1")), "10.3.3.3"),  # all trusted
        # malformed: stop at the last address vouched for
        ("10.0.0.2", h(("x-forwarded-for", "198.51.100.9, garbage")), "10.0.0.2"),
        ("10.0.0.2", h(("x-forwarded-for", "198.51.100.9, garbage, 10.1.1.1")), "10.1.1.1"),
        ("10.0.0.2", h(("x-forwarded-for", "")), "10.0.0.2"),
        ("10.0.0.2", h(("x-forwarded-for", "198.51.100.9,")), "10.0.0.2"),
        ("10.0.0.2", h(("x-forwarded-for", "unknown")), "10.0.0.2"),
        ("10.0.0.2", h(("x-forwarded-for", "1.2.3.4.5")), "10.0.0.2"),
        # no header from a trusted peer: the peer
        ("10.0.0.2", [], "10.0.0.2"),
        # ports, brackets, IPv6, mapped IPv4
        ("10.0.0.2", h(("x-forwarded-for", "198.51.100.9:4711")), "198.51.100.9"),
        ("10.0.0.2", h(("x-forwarded-for", "[2001:db8::1]:4711")), "2001:db8::1"),
        ("10.0.0.2", h(("x-forwarded-for", "2001:db8::1")), "2001:db8::1"),
        ("::ffff:10.0.0.2", h(("x-forwarded-for", "::ffff:198.51.100.9")), "198.51.100.9"),
        ("fd00::1", h(("x-forwarded-for", "198.51.100.9")), "198.51.100.9"),
        ("::ffff:203.0.113.7", h(("x-forwarded-for", "1.1.1.1")), "203.0.113.7"),
        # the header the proxies do not write is ignored
        ("10.0.0.2", h(("forwarded", "for=6.6.6.6")), "10.0.0.2"),
        # not an IP peer (Unix socket)
        ("unix:/run/gw.sock", h(("x-forwarded-for", "1.1.1.1")), "unix:/run/gw.sock"),
    ],
)  # fmt: skip
def test_client_ip_from_x_forwarded_for(peer: str, headers: Headers, expected: str) -> None:
    assert client_ip(peer, headers, TRUSTED) == expected


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        (h(("forwarded", "for=198.51.100.9")), "198.51.100.9"),
        (h(("Forwarded", 'for="[2001:db8:cafe::17]:4711";proto=https')), "2001:db8:cafe::17"),
        (h(("forwarded", "for=6.6.6.6, for=198.51.100.9;by=10.0.0.2, For=10.1.1.1")),
         "198.51.100.9"),
        (h(("forwarded", "for=6.6.6.6"), ("forwarded", "proto=http;for=198.51.100.9")),
         "198.51.100.9"),
        (h(("forwarded", "for=unknown")), "10.0.0.2"),
        (h(("forwarded", "for=_hidden")), "10.0.0.2"),
        (h(("forwarded", "proto=https")), "10.0.0.2"),
        (h(("x-forwarded-for", "6.6.6.6")), "10.0.0.2"),
    ],
)  # fmt: skip
def test_client_ip_from_forwarded(headers: Headers, expected: str) -> None:
    assert client_ip("10.0.0.2", headers, TRUSTED, header="forwarded") == expected


def test_client_ip_strict_refuses_malformed_chains() -> None:
    with pytest.raises(AmbiguousRequest) as caught:
        client_ip("10.0.0.2", h(("x-forwarded-for", "nonsense")), TRUSTED, strict=True)
    assert caught.value.code == "client.forwarded"
    # an untrusted peer never reads the header, so never raises
    assert client_ip("8.8.8.8", h(("x-forwarded-for", "nonsense")), TRUSTED, strict=True)


def test_client_ip_walks_a_bounded_number_of_hops() -> None:
    chain = ", ".join(["198.51.100.9"] + ["10.0.0.9"] * 40)
    headers = h(("x-forwarded-for", chain))
    assert client_ip("10.0.0.2", headers, TRUSTED) == "10.0.0.9"  # gave up among trusted hops
    assert client_ip("10.0.0.2", headers, TRUSTED, max_hops=64) == "198.51.100.9"
    exact = ", ".join(["198.51.100.9"] + ["10.0.0.9"] * 15)  # max_hops + 1 entries still fit
    assert client_ip("10.0.0.2", h(("x-forwarded-for", exact)), TRUSTED) == "198.51.100.9"


SCREENED = [
    [(b"host", b"a"), (b"host", b"b")],
    [(b"content-length", b"5"), (b"transfer-encoding", b"chunked")],
    [(b"content-length", b"5"), (b"content-length", b"6")],
    [(b"content-length", b"+5")],
    [(b"transfer-encoding", b"gzip, chunked")],
    [(b"content_length", b"5")],
    [(b"Transfer-Encoding ", b"chunked")],
    [(b"X-HTTP-Method-Override", b"DELETE")],
    [(b"x_http_method", b"DELETE")],
    [(b"X-Original-URL", b"/admin")],
    [(b"x-rewrite-url", b"/admin")],
    [(b"host", b"a"), (b"content-length", b"12")],
    [(b"host", b"a"), (b"transfer-encoding", b"chunked")],
    [(b"host", b"a"), (b"authorization", b"Bearer x"), (b"accept", b"*/*")],
]


@pytest.mark.parametrize("headers", SCREENED)
def test_screen_decides_as_the_three_checks_do(headers: list[tuple[bytes, bytes]]) -> None:
    def separately() -> object:
        try:
            check_method_override(headers)
            check_url_override(headers)
            return check_framing(headers)
        except AmbiguousRequest as exc:
            return exc.code

    def at_once() -> object:
        try:
            return screen(headers)
        except AmbiguousRequest as exc:
            return exc.code

    assert at_once() == separately()


def test_screen_checks_the_query_for_method_overrides() -> None:
    with pytest.raises(AmbiguousRequest):
        screen([(b"host", b"a")], b"a=1&_method=DELETE")
    assert screen([(b"host", b"a")], b"a=1") is None


def test_an_http11_request_without_host_is_refused_and_http10_is_not() -> None:
    with pytest.raises(AmbiguousRequest, match="without Host") as caught:
        screen([(b"accept", b"*/*")], b"", http11=True)
    assert caught.value.code == "framing.host_missing"
    assert screen([(b"accept", b"*/*")], b"", http11=False) is None  # HTTP/1.0 needs none
    assert screen([(b"host", b"a")], b"", http11=True) is None


@pytest.mark.parametrize(
    "query",
    [
        b"q=a%00b",
        b"q=%0D%0ASet-Cookie:x",
        b"q=%7f",
        b"a=1&b=%1B[31m",
        b"q=%C2%85",  # NEL
        b"q=%e2%80%a8",  # line separator
        b"q=%C0%80",  # overlong NUL
        b"q=%u000a",  # IIS
    ],
)
def test_control_characters_in_the_query_are_refused(query: bytes) -> None:
    with pytest.raises(AmbiguousRequest, match="control character") as caught:
        screen([(b"host", b"a")], query)
    assert caught.value.code == "query.control_character"


@pytest.mark.parametrize(
    "query", [b"q=a%09b", b"q=%2500", b"q=100%25", b"q=%C3%A9t%C3%A9", b"q=a+b"]
)
def test_ordinary_escapes_in_the_query_pass(query: bytes) -> None:
    assert screen([(b"host", b"a")], query) is None


@pytest.mark.parametrize(
    ("value", "name"),
    [
        (b"api.example", "api.example"),
        (b"API.Example.:443", "api.example"),
        (b"[::1]:80", "::1"),
        (b"10.0.0.1", "10.0.0.1"),
        (b"api.example:1@evil.example", None),
        (b"api.example/x", None),
        (b"api example", None),
        (b"api.example:99999999", None),
        (b"", None),
    ],
)
def test_host_names_are_read_strictly(value: bytes, name: str | None) -> None:
    assert host_name(value) == name


def test_an_invalid_host_is_refused() -> None:
    with pytest.raises(AmbiguousRequest, match="host\\[:port\\]") as caught:
        screen([(b"host", b"api.example:1@evil.example")])
    assert caught.value.code == "framing.host_invalid"
    assert screen([(b"host", b"api.example:8443")], http11=True) is None
