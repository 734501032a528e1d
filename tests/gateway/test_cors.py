"""CORS: preflights granted and refused, response headers, origin-matching bypasses, config."""

from __future__ import annotations

import pytest

from apiward.errors import ConfigError
from apiward.gateway.cors import CorsPolicy, Headers

APP = "https://app.example.com"
PATH_METHODS = ["get", "post", "delete"]  # as the spec declares them for the path


def h(*pairs: tuple[str, str]) -> Headers:
    return [(n.encode(), v.encode()) for n, v in pairs]


def d(headers: Headers) -> dict[str, str]:
    out: dict[str, str] = {}
    for n, v in headers:
        key = n.decode().lower()
        out[key] = f"{out[key]}, {v.decode()}" if key in out else v.decode()
    return out


def preflight(
    policy: CorsPolicy, origin: str = APP, method: str = "POST", *extra: tuple[str, str]
) -> tuple[int, dict[str, str]] | None:
    headers = h(("origin", origin), ("access-control-request-method", method), *extra)
    answer = policy.preflight("OPTIONS", headers, PATH_METHODS)
    return None if answer is None else (answer[0], d(answer[1]))


CREDS = CorsPolicy(
    [APP, "https://*.example.org"],
    allow_headers=["Authorization", "X-Request-Id"],
    expose_headers=["X-Request-Id"],
    allow_credentials=True,
    max_age=300,
)
PUBLIC = CorsPolicy(["*"])


# --- preflight ------------------------------------------------------------------------------


def test_preflight_granted_names_the_origin_methods_and_headers() -> None:
    answer = preflight(CREDS, APP, "DELETE", ("access-control-request-headers", "authorization"))
    assert answer is not None
    status, headers = answer
    assert status == 204
    assert headers["access-control-allow-origin"] == APP
    assert headers["access-control-allow-credentials"] == "true"
    assert headers["access-control-allow-methods"] == "DELETE, GET, POST"
    assert headers["access-control-allow-headers"] == "authorization"
    assert headers["access-control-max-age"] == "300"
    assert "Origin" in headers["vary"]


@pytest.mark.parametrize(
    ("method", "headers"),
    [
        ("GET", h(("origin", APP), ("access-control-request-method", "POST"))),  # not OPTIONS
        ("OPTIONS", h(("access-control-request-method", "POST"))),  # no Origin
        ("OPTIONS", h(("origin", APP))),  # plain OPTIONS from a page: not a preflight
        ("OPTIONS", []),
    ],
)
def test_non_preflights_are_left_alone(method: str, headers: Headers) -> None:
    assert CREDS.preflight(method, headers, PATH_METHODS) is None


@pytest.mark.parametrize(
    "origin",
    [
        "https://evil.com",
        "http://app.example.com",  # scheme matters
        "https://app.example.com:8443",  # port matters
        "https://app.example.com.evil.net",
        "https://evil-app.example.com",  # not a subdomain of the exact origin
        "null",
        "",
    ],
)
def test_preflight_from_an_unlisted_origin_is_refused(origin: str) -> None:
    answer = preflight(CREDS, origin)
    assert answer is not None
    status, headers = answer
    assert status == 403
    assert not any(k.startswith("access-control-") for k in headers)


def test_preflight_for_a_method_the_path_does_not_declare_is_refused() -> None:
    answer = preflight(CREDS, APP, "PUT")
    assert answer is not None and answer[0] == 403
    assert not any(k.startswith("access-control-") for k in answer[1])
    # methods are case-sensitive: "delete" is not the DELETE the spec declares
    answer = preflight(CREDS, APP, "delete")
    assert answer is not None and answer[0] == 403


def test_configured_methods_narrow_the_paths_methods() -> None:
    policy = CorsPolicy([APP], allow_methods=["GET", "PUT"])
    answer = preflight(policy, APP, "GET")
    assert answer is not None and answer[0] == 204
    assert answer[1]["access-control-allow-methods"] == "GET"
    answer = preflight(policy, APP, "POST")  # the path has it, the policy does not
    assert answer is not None and answer[0] == 403
    answer = preflight(policy, APP, "PUT")  # the policy has it, the path does not
    assert answer is not None and answer[0] == 403


def test_preflight_asking_for_an_unlisted_header_is_refused() -> None:
    answer = preflight(
        CREDS, APP, "POST", ("access-control-request-headers", "x-admin, authorization")
    )
    assert answer is not None and answer[0] == 403


def test_safelisted_headers_are_implied() -> None:
    answer = preflight(
        CREDS, APP, "POST", ("access-control-request-headers", "content-type,accept")
    )
    assert answer is not None and answer[0] == 204


def test_any_header_policy_echoes_what_was_asked() -> None:
    policy = CorsPolicy([APP], allow_headers=["*"], allow_credentials=True)
    answer = preflight(
        policy, APP, "POST", ("access-control-request-headers", "X-Foo, authorization")
    )
    assert answer is not None and answer[0] == 204
    assert answer[1]["access-control-allow-headers"] == "x-foo, authorization"


def test_duplicated_origin_is_refused_not_guessed() -> None:
    headers = h(
        ("origin", "https://evil.com"), ("origin", APP), ("access-control-request-method", "GET")
    )
    answer = CREDS.preflight("OPTIONS", headers, PATH_METHODS)
    assert answer is not None and answer[0] == 403


def test_unknown_path_gets_no_methods() -> None:
    headers = h(("origin", APP), ("access-control-request-method", "GET"))
    answer = CREDS.preflight("OPTIONS", headers, [])
    assert answer is not None and answer[0] == 403


def test_public_policy_answers_star_without_credentials() -> None:
    answer = preflight(PUBLIC, "https://anyone.net", "GET")
    assert answer is not None
    assert answer[0] == 204
    assert answer[1]["access-control-allow-origin"] == "*"
    assert "access-control-allow-credentials" not in answer[1]


# --- wildcard subdomains and bypass attempts ------------------------------------------------


@pytest.mark.parametrize(
    "origin", ["https://a.example.org", "https://a-b.example.org", "https://x.y.example.org"]
)
def test_wildcard_subdomain_matches(origin: str) -> None:
    assert CREDS.origin_allowed(origin)


@pytest.mark.parametrize(
    "origin",
    [
        "https://example.org",  # the bare domain is not a subdomain
        "https://evil-example.org",
        "https://evilexample.org",
        "https://example.org.evil.net",
        "https://a.example.org.evil.net",
        "https://a.example.org:8443",
        "http://a.example.org",
        "https://evil.net/.example.org",
        "https://evil.net?.example.org",
        "https://evil.net#.example.org",
        "https://user@a.example.org",
        "https://evil.net\\.example.org",
        "https://.example.org",
        "https://a..example.org",
        "https://-a.example.org",
        "https://A.example.org",
        "https://a.example.org/",
        "https://a b.example.org",
        "https://" + "a" * 64 + ".example.org",
        "https://" + "a." * 2000 + "example.org",
        "null",
    ],
)
def test_wildcard_bypass_attempts_do_not_match(origin: str) -> None:
    assert not CREDS.origin_allowed(origin)


def test_null_origin_only_when_listed_literally() -> None:
    assert not PUBLIC.origin_allowed("null")
    assert not CREDS.origin_allowed("null")
    listed = CorsPolicy(["null"], allow_credentials=True)
    assert listed.origin_allowed("null")
    out = d(listed.response_headers(h(("origin", "null")), []))
    assert out["access-control-allow-origin"] == "null"


def test_configured_origins_are_normalised_like_browsers_send_them() -> None:
    policy = CorsPolicy(
        ["HTTPS://App.Example.com:443/", "http://[::1]:8080", "https://*.Example.net:443"]
    )
    assert policy.origin_allowed("https://app.example.com")
    assert policy.origin_allowed("http://[::1]:8080")
    assert policy.origin_allowed("https://a.example.net")
    assert not policy.origin_allowed("https://app.example.com:443")


# --- response headers -----------------------------------------------------------------------


def test_response_for_an_allowed_origin_gets_exact_origin_and_credentials() -> None:
    out = d(CREDS.response_headers(h(("origin", APP)), h(("content-type", "application/json"))))
    assert out["access-control-allow-origin"] == APP
    assert out["access-control-allow-credentials"] == "true"
    assert out["access-control-expose-headers"] == "X-Request-Id"
    assert out["vary"] == "Origin"
    assert out["content-type"] == "application/json"


def test_response_for_another_origin_gets_no_grant_but_vary() -> None:
    upstream = h(("Access-Control-Allow-Origin", "*"), ("access-control-allow-credentials", "true"))
    out = d(CREDS.response_headers(h(("origin", "https://evil.com")), upstream))
    assert out == {"vary": "Origin"}


def test_upstream_cors_headers_are_replaced() -> None:
    upstream = h(
        ("access-control-allow-origin", "https://evil.com"),
        ("Access-Control-Expose-Headers", "Set-Cookie"),
        ("x-request-id", "1"),
    )
    out = CREDS.response_headers(h(("origin", APP)), upstream)
    got = d(out)
    assert got["access-control-allow-origin"] == APP
    assert got["access-control-expose-headers"] == "X-Request-Id"
    assert sum(1 for n, _ in out if n.lower() == b"access-control-allow-origin") == 1


def test_response_without_origin_gets_only_vary() -> None:
    assert d(CREDS.response_headers([], h(("x", "1")))) == {"x": "1", "vary": "Origin"}


def test_public_policy_response_is_star_never_with_credentials() -> None:
    out = d(PUBLIC.response_headers(h(("origin", "https://anyone.net")), []))
    assert out["access-control-allow-origin"] == "*"
    assert "access-control-allow-credentials" not in out


@pytest.mark.parametrize(
    ("upstream", "expected"),
    [
        (h(("vary", "Accept-Encoding")), "Accept-Encoding, Origin"),
        (h(("Vary", "origin")), "origin"),
        (h(("vary", "*")), "*"),
        (h(("vary", "Accept"), ("vary", "Origin")), "Accept, Origin"),
        (h(("vary", "")), "Origin"),
    ],
)
def test_vary_is_merged(upstream: Headers, expected: str) -> None:
    out = CREDS.response_headers(h(("origin", APP)), upstream)
    assert d(out)["vary"] == expected


# --- configuration --------------------------------------------------------------------------


def test_star_with_credentials_is_refused() -> None:
    with pytest.raises(ConfigError, match="allow_credentials"):
        CorsPolicy(["*"], allow_credentials=True)
    with pytest.raises(ConfigError, match="expose_headers"):
        CorsPolicy([APP], expose_headers=["*"], allow_credentials=True)


@pytest.mark.parametrize(
    "entry",
    [
        "app.example.com",
        "ftp://app.example.com",
        "https://app.example.com/path",
        "https://app.example.com?x=1",
        "https://user@app.example.com",
        "https://app.example.com:99999",
        "https://*",
        "https://*.com",
        "https://*.10.0.0.1",
        "https://a.*.example.com",
        "https://foo*.example.com",
        "*.example.com",
    ],
)
def test_bad_origins_are_config_errors_naming_them(entry: str) -> None:
    with pytest.raises(ConfigError, match="allow_origins") as caught:
        CorsPolicy([APP, entry])
    assert repr(entry) in str(caught.value)


def test_bad_header_names_and_max_age_are_config_errors() -> None:
    with pytest.raises(ConfigError, match="allow_headers"):
        CorsPolicy([APP], allow_headers=["X Bad"])
    with pytest.raises(ConfigError, match="max_age"):
        CorsPolicy([APP], max_age=-1)
    with pytest.raises(ConfigError, match="allow_origins"):
        CorsPolicy(APP)
