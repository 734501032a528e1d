"""canonical_path: attack table, policies, invariants on generated paths, a real upstream."""

from __future__ import annotations

import random
import socket
import unicodedata
from urllib.parse import unquote

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Route

from apiward.core import Router, from_dict
from apiward.demo.server import serve_app
from apiward.errors import InputError
from apiward.gateway.canonical import AmbiguousRequest, PathPolicy, canonical_path, fold_case

ACCEPTED = [
    (b"/", "/"),
    (b"/users/42", "/users/42"),
    (b"/users/42/", "/users/42/"),  # kept: the router then refuses it unless the spec has it
    (b"/ADMIN", "/ADMIN"),  # case kept: OpenAPI paths are case-sensitive
    (b"/%61dmin", "/admin"),  # unreserved decoded: routes where the upstream will
    (b"/%41%42", "/AB"),
    (b"/users/%7ejohn", "/users/~john"),
    (b"/file%2Ejson", "/file.json"),
    (b"/users/a%40b.com", "/users/a@b.com"),
    (b"/v1/items%3Abatch", "/v1/items:batch"),
    (b"/a%2Bb", "/a+b"),
    (b"/search/hello%20world", "/search/hello%20world"),  # kept encoded
    (b"/q/%3f%23", "/q/%3F%23"),  # uppercase hex
    (b"/caf%c3%a9", "/caf%C3%A9"),
    (b"/caf\xc3\xa9", "/caf%C3%A9"),  # raw UTF-8 encoded, so what is forwarded is ASCII
    (b"/%E6%97%A5%E6%9C%AC", "/%E6%97%A5%E6%9C%AC"),
    (b"/a{b}", "/a%7Bb%7D"),
    (b"//admin", "/admin"),  # merged, and never forwarded as a network-path reference
    (b"/api//users", "/api/users"),
    (b"///", "/"),
    (b"/.well-known/openid-configuration", "/.well-known/openid-configuration"),
    (b"/a..b/c.d.", "/a..b/c.d."),
    (b"/-_~!$&'()*+,=:@", "/-_~!$&'()*+,=:@"),
]

REJECTED = [
    # encoded separators
    (b"/admin%2f..", "path.encoded_slash"),
    (b"/admin%2F", "path.encoded_slash"),
    (b"/api%2fadmin", "path.encoded_slash"),
    (b"/admin%5c..%5cx", "path.encoded_backslash"),
    (b"/admin\\..\\x", "path.backslash"),
    (b"/admin\\", "path.backslash"),
    # dot segments: raw, encoded, look-alike, above the root
    (b"/%2e%2e/admin", "path.encoded_dot"),
    (b"/%2E%2E/admin", "path.encoded_dot"),
    (b"/.%2e/admin", "path.encoded_dot"),
    (b"/%2e./admin", "path.encoded_dot"),
    (b"/%2e/admin", "path.encoded_dot"),
    (b"/api/v1/../admin", "path.dot_segment"),
    (b"/../admin", "path.dot_segment"),
    (b"/admin/.", "path.dot_segment"),
    (b"/./admin", "path.dot_segment"),
    (b"/.../admin", "path.dot_lookalike"),
    (b"/.. /admin", "path.space"),
    (b"/..%20/admin", "path.dot_lookalike"),
    (b"/admin%20", "path.whitespace"),
    (b"/%20admin", "path.whitespace"),
    # matrix parameters (Tomcat/Spring strip them: /..;/admin reaches /admin)
    (b"/admin;/", "path.matrix"),
    (b"/admin;x=y", "path.matrix"),
    (b"/..;/admin", "path.matrix"),
    (b"/admin%3b", "path.matrix"),
    (b"/admin%3Bjsessionid=1", "path.matrix"),
    # double and malformed encoding
    (b"/admin%252f", "path.double_encoding"),
    (b"/admin%25", "path.double_encoding"),
    (b"/%25%32%66", "path.double_encoding"),
    (b"/admin%", "path.bad_escape"),
    (b"/admin%2", "path.bad_escape"),
    (b"/admin%zz", "path.bad_escape"),
    (b"/admin%u002f", "path.bad_escape"),
    (b"/admin%%32%66", "path.bad_escape"),
    # control and invisible characters
    (b"/admin%00", "path.control"),
    (b"/admin%00.json", "path.control"),
    (b"/admin\x00", "path.control"),
    (b"/admin%0a", "path.control"),
    (b"/admin%0d%0aX-Injected:1", "path.control"),
    (b"/admin\t", "path.control"),
    (b"/admin%7f", "path.control"),
    (b"/admin%c2%85", "path.control"),  # NEL, a line break to Java
    (b"/adm%e2%80%8bin", "path.control"),  # zero-width space
    (b"/admin%e2%80%ae", "path.control"),  # right-to-left override
    (b"/admin%ef%bb%bf", "path.control"),  # BOM
    (b"/adm in", "path.space"),
    # invalid and overlong UTF-8
    (b"/%c0%ae%c0%ae/admin", "path.utf8"),  # overlong '.'
    (b"/%c0%af", "path.utf8"),  # overlong '/'
    (b"/%e0%80%af", "path.utf8"),
    (b"/%ff", "path.utf8"),
    (b"/\xff", "path.utf8"),
    (b"/caf%c3", "path.utf8"),
    (b"/%ed%a0%80", "path.utf8"),  # a lone surrogate
    # Unicode that normalises or case-maps to ASCII
    ("/\uff0e\uff0e/admin".encode(), "path.confusable"),  # fullwidth full stops
    (b"/%ef%bc%8e%ef%bc%8e/admin", "path.confusable"),
    ("/admin\uff0f..".encode(), "path.confusable"),  # fullwidth solidus
    ("/\uff05\uff12\uff46".encode(), "path.confusable"),  # fullwidth "%2f"
    ("/\uff41\uff44\uff4d\uff49\uff4e".encode(), "path.confusable"),  # fullwidth "admin"
    ("/adm\u0131n".encode(), "path.confusable"),  # dotless i: 'ADMIN' to Java's equalsIgnoreCase
    ("/\u212aey".encode(), "path.confusable"),  # Kelvin sign, lowercases to 'k'
    ("/admin\u2024".encode(), "path.confusable"),  # one-dot leader
    ("/\ufe52\ufe52/admin".encode(), "path.confusable"),  # small full stop
    # not origin form
    (b"", "path.form"),
    (b"admin", "path.form"),
    (b"*", "path.form"),
    (b"http://evil.example/admin", "path.form"),
    (b"/admin?x=1", "path.syntax"),
    (b"/admin#frag", "path.syntax"),
    # size
    (b"/" + b"a" * 3000, "path.too_long"),
    (b"/a" * 100, "path.depth"),
]


@pytest.mark.parametrize(("raw", "expected"), ACCEPTED)
def test_accepted_paths_have_one_canonical_form(raw: bytes, expected: str) -> None:
    assert canonical_path(raw) == expected
    assert canonical_path(expected.encode()) == expected  # idempotent


@pytest.mark.parametrize(("raw", "code"), REJECTED)
def test_ambiguous_paths_are_refused(raw: bytes, code: str) -> None:
    with pytest.raises(AmbiguousRequest) as caught:
        canonical_path(raw)
    assert caught.value.code == code
    assert caught.value.status == 400
    assert isinstance(caught.value, InputError)
    assert caught.value.reason and len(str(caught.value)) < 300  # names the problem, bounded


RESOLVE = PathPolicy(dot_segments="resolve")


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (b"/a/./b", "/a/b"),
        (b"/api/v1/../admin", "/api/admin"),
        (b"/a/b/..", "/a/"),
        (b"/a/b/.", "/a/b/"),
        (b"/a/..", "/"),
        (b"/a/../", "/"),
        (b"/.", "/"),
        (b"/a/b/../../c", "/c"),
    ],
)
def test_dot_segments_resolved_on_request(raw: bytes, expected: str) -> None:
    assert canonical_path(raw, RESOLVE) == expected


@pytest.mark.parametrize(
    "raw", [b"/..", b"/../admin", b"/a/../../admin", b"/a/b/../../../c", b"/%2e%2e/admin"]
)
def test_resolving_never_climbs_above_root_nor_decodes_dots(raw: bytes) -> None:
    with pytest.raises(AmbiguousRequest):
        canonical_path(raw, RESOLVE)


def test_empty_segments_refused_on_request() -> None:
    strict = PathPolicy(empty_segments="reject")
    for raw in (b"//admin", b"/a//b", b"///"):
        with pytest.raises(AmbiguousRequest, match="empty path segment"):
            canonical_path(raw, strict)
    assert canonical_path(b"/a/b/", strict) == "/a/b/"  # a trailing slash is not an empty segment


def test_trailing_slash_stripped_on_request() -> None:
    strip = PathPolicy(trailing_slash="strip")
    assert canonical_path(b"/users/", strip) == "/users"
    assert canonical_path(b"/users/%41/", strip) == "/users/A"
    assert canonical_path(b"/users//", strip) == "/users"
    assert canonical_path(b"/", strip) == "/"
    assert canonical_path(b"/a/b/..", PathPolicy(dot_segments="resolve", trailing_slash="strip"))


def test_limits_are_configurable() -> None:
    small = PathPolicy(max_length=10, max_segments=2)
    assert canonical_path(b"/a/b", small) == "/a/b"
    with pytest.raises(AmbiguousRequest, match="longer than 10"):
        canonical_path(b"/abcdefghijk", small)
    with pytest.raises(AmbiguousRequest, match="more than 2 segments"):
        canonical_path(b"/a/b/c", small)


def test_fold_case_keeps_escapes_uppercase() -> None:
    assert fold_case("/Users/ME") == "/users/me"
    assert fold_case("/Caf%C3%A9/X%2Bx%20Y") == "/caf%C3%A9/x%2Bx%20y"


# Pieces an attacker combines; generated paths built from them must come out canonical or refused.
_PIECES = [
    "/", "//", ".", "..", "%2e", "%2E", "%2f", "%5c", "\\", ";", "%3b", "%25", "%", "%2", "%00",
    "a", "Admin", "%41", "%7e", "~", "%20", " ", "?", "#", "é", "%c3%a9", "%c0%ae", "%ff",
    "\uff0e", "\uff0f", "\uff41", "\u0131", "\u200b", ":", "@", "+", "%3a", "{", "}", "%3f",
    "'", "=",
]  # fmt: skip


def _structure_ok(canonical: str) -> None:
    assert canonical.isascii() and canonical.startswith("/")
    assert canonical_path(canonical.encode()) == canonical
    segments = canonical.split("/")[1:]
    decoded = unquote(canonical, errors="strict")
    # decoding once adds no separator, dot segment, escape or control: the upstream's reading
    assert decoded.split("/")[1:] == [unquote(s) for s in segments]
    nfkc = unicodedata.normalize("NFKC", decoded)
    assert nfkc.count("/") == canonical.count("/")
    for seg in nfkc.split("/")[1:]:
        assert seg not in (".", "..")
        assert not set(seg) & set("\\;%\x00\r\n\t")


def test_generated_paths_are_canonical_or_refused() -> None:
    rng = random.Random(4)
    accepted = 0
    for _ in range(4000):
        raw = "/" + "".join(rng.choice(_PIECES) for _ in range(rng.randint(1, 8)))
        for policy in (PathPolicy(), RESOLVE):
            try:
                canonical = canonical_path(raw.encode(), policy)
            except AmbiguousRequest:
                continue
            accepted += 1
            _structure_ok(canonical)
    assert accepted > 200  # the generator reaches the accepting side too


def test_fast_path_agrees_with_the_full_parser() -> None:
    # "%41" forces the byte-by-byte parser; prefixing a decoded "A" must give the same result
    for raw in (b"/users/42", b"/a/b/c/", b"/x-y_z~!$&'()*+,=:@", b"/.well-known/x"):
        assert "/A" + canonical_path(raw) == canonical_path(b"/%41" + raw)


# --- the property that matters: the upstream serves what the gateway routed on ---------------

_SPEC = {
    "openapi": "3.1.0",
    "info": {"title": "t", "version": "1"},
    "paths": {
        p: {"get": {"responses": {"200": {"description": "ok"}}}}
        # concrete before templated, as OpenAPI means it (Starlette takes the first that fits)
        for p in ("/admin", "/public/{name}", "/users/me", "/users/{id}", "/files/{name}/raw")
    },
}


def _route_name(request: Request) -> PlainTextResponse:
    return PlainTextResponse(request.scope["route"].path + "|" + request.scope["raw_path"].decode())


def _upstream() -> Starlette:
    paths = list(_SPEC["paths"])
    app = Starlette(routes=[Route(p, _route_name) for p in paths])
    app.router.redirect_slashes = False
    return app


def _get(base: str, target: bytes) -> tuple[int, str]:
    host, port = base.removeprefix("http://").rsplit(":", 1)
    with socket.create_connection((host, int(port)), timeout=5) as sock:
        sock.sendall(b"GET " + target + b" HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")
        data = b""
        while chunk := sock.recv(65536):
            data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    return int(head.split()[1]), body.decode()


def test_upstream_routes_the_forwarded_form_where_the_gateway_did() -> None:
    router = Router(from_dict(_SPEC).operations)
    attacks = [raw for raw, _ in ACCEPTED] + [raw for raw, _ in REJECTED if raw.startswith(b"/")]
    attacks += [b"/users/%6de", b"/%2561dmin", b"/public/%2e%2e%2fadmin", b"/files/a%2fb/raw"]
    with serve_app(_upstream()) as base:
        # the contract canonical_path relies on: ASGI raw_path is the path as sent, no query
        status, body = _get(base, b"/public/a%3Fb?x=1")
        assert (status, body) == (200, "/public/{name}|/public/a%3Fb")
        # and why an encoded slash is refused: the upstream decodes it into a separator
        assert _get(base, b"/public/a%2Fb")[0] == 404
        checked = 0
        for raw in attacks:
            try:
                path = canonical_path(raw)
            except AmbiguousRequest:
                continue
            match = router.match("GET", path)
            status, body = _get(base, path.encode())
            if match is None:
                assert status == 404, (raw, path, body)
            else:
                assert status == 200 and body.split("|")[0] == match.operation.path, (raw, path)
            checked += 1
        assert checked >= len(ACCEPTED)
