"""Router: OpenAPI precedence, backtracking, parameters, 405s, base paths."""

from __future__ import annotations

import random
import re
from typing import Any

import pytest

from apiward.core import Router, Server, from_dict
from apiward.core.findings import Location
from apiward.core.router import _Pattern, server_base_paths
from apiward.errors import ConfigError

OK = {"responses": {"200": {"description": "ok"}}}


def router(paths: dict[str, list[str]], **kwargs: Any) -> Router:
    """A router over ``{template: [methods]}``, each operation's id being ``METHOD template``."""
    spec = {
        template: {m: {**OK, "operationId": f"{m.upper()} {template}"} for m in methods}
        for template, methods in paths.items()
    }
    doc = from_dict({"openapi": "3.0.3", "info": {"title": "t", "version": "1"}, "paths": spec})
    return Router(doc.operations, **kwargs)


def hit(r: Router, method: str, path: str) -> tuple[str | None, dict[str, str]] | None:
    m = r.match(method, path)
    return None if m is None else (m.operation.operation_id, m.path_params)


def test_literal_and_templated_paths() -> None:
    r = router({"/users": ["get"], "/users/{id}": ["get"], "/": ["get"]})
    assert hit(r, "GET", "/users") == ("GET /users", {})
    assert hit(r, "GET", "/users/42") == ("GET /users/{id}", {"id": "42"})
    assert hit(r, "GET", "/") == ("GET /", {})
    assert hit(r, "GET", "/nope") is None
    assert hit(r, "GET", "/users/42/more") is None


def test_concrete_segment_beats_template() -> None:
    r = router({"/users/{id}": ["get"], "/users/me": ["get"], "/{kind}/me": ["get"]})
    assert hit(r, "GET", "/users/me") == ("GET /users/me", {})
    assert hit(r, "GET", "/users/you") == ("GET /users/{id}", {"id": "you"})
    assert hit(r, "GET", "/teams/me") == ("GET /{kind}/me", {"kind": "teams"})


def test_precedence_is_decided_from_the_left() -> None:
    r = router({"/a/{x}/c": ["get"], "/{y}/b/c": ["get"]})
    assert hit(r, "GET", "/a/b/c") == ("GET /a/{x}/c", {"x": "b"})


def test_backtracks_when_a_literal_branch_dead_ends() -> None:
    r = router({"/a/{x}/c": ["get"], "/a/b/d": ["get"], "/a/b/{z}/e": ["get"]})
    assert hit(r, "GET", "/a/b/c") == ("GET /a/{x}/c", {"x": "b"})
    assert hit(r, "GET", "/a/b/d") == ("GET /a/b/d", {})


def test_backtracking_restores_collected_params() -> None:
    r = router({"/{a}/x/{b}/y": ["get"], "/{c}/{d}/{e}/z": ["get"]})
    assert hit(r, "GET", "/1/x/2/z") == ("GET /{c}/{d}/{e}/z", {"c": "1", "d": "x", "e": "2"})


def test_concrete_precedence_is_per_method() -> None:
    r = router({"/users/me": ["post"], "/users/{id}": ["get"]})
    assert hit(r, "GET", "/users/me") == ("GET /users/{id}", {"id": "me"})
    assert hit(r, "POST", "/users/me") == ("POST /users/me", {})


def test_partial_segments() -> None:
    r = router(
        {
            "/files/{name}.json": ["get"],
            "/files/{name}": ["get"],
            "/v{version}/items": ["get"],
            "/pairs/{a}-{b}": ["get"],
            "/files/raw-{name}.json": ["get"],
        }
    )
    assert hit(r, "GET", "/files/report.json") == ("GET /files/{name}.json", {"name": "report"})
    assert hit(r, "GET", "/files/a.b.json") == ("GET /files/{name}.json", {"name": "a.b"})
    # the pattern with more literal characters is the more specific one
    assert hit(r, "GET", "/files/raw-x.json") == ("GET /files/raw-{name}.json", {"name": "x"})
    assert hit(r, "GET", "/files/report.xml") == ("GET /files/{name}", {"name": "report.xml"})
    # a parameter never matches an empty string
    assert hit(r, "GET", "/files/.json") == ("GET /files/{name}", {"name": ".json"})
    assert hit(r, "GET", "/v2/items") == ("GET /v{version}/items", {"version": "2"})
    assert hit(r, "GET", "/v/items") is None
    assert hit(r, "GET", "/pairs/x-y") == ("GET /pairs/{a}-{b}", {"a": "x", "b": "y"})
    assert hit(r, "GET", "/pairs/x-y-z") == ("GET /pairs/{a}-{b}", {"a": "x", "b": "y-z"})
    assert hit(r, "GET", "/pairs/-y") is None
    assert hit(r, "GET", "/pairs/xy") is None


def test_adjacent_params_and_backtracking_out_of_a_partial_segment() -> None:
    r = router({"/x/{a}{b}": ["get"], "/y/{n}.json/raw": ["get"], "/y/{m}/meta": ["get"]})
    assert hit(r, "GET", "/x/abc") == ("GET /x/{a}{b}", {"a": "a", "b": "bc"})
    assert hit(r, "GET", "/x/a") is None
    assert hit(r, "GET", "/y/f.json/meta") == ("GET /y/{m}/meta", {"m": "f.json"})
    assert hit(r, "GET", "/y/f.json/raw") == ("GET /y/{n}.json/raw", {"n": "f"})


def test_hostile_segment_against_multi_param_pattern() -> None:
    # a lazy regex backtracks polynomially here (minutes); the scan is linear
    r = router({"/q/{a}-{b}-{c}.json": ["get"]})
    assert hit(r, "GET", "/q/" + "-" * 20_000 + "x") is None
    m = r.match("GET", "/q/" + "-" * 20_000 + ".json")
    assert m is not None
    assert m.path_params == {"a": "-", "b": "-", "c": "-" * 19_996}


def test_partial_scan_agrees_with_lazy_regex() -> None:
    rng = random.Random(3)
    for _ in range(3000):
        literals = tuple(
            "".join(rng.choice("ab-") for _ in range(rng.randint(0, 2)))
            for _ in range(rng.randint(2, 4))
        )
        regex = re.compile("(.+?)".join(re.escape(lit) for lit in literals))
        seg = "".join(rng.choice("ab-") for _ in range(rng.randint(0, 9)))
        expected = regex.fullmatch(seg)
        got = _Pattern(literals).match(seg)
        assert got == (list(expected.groups()) if expected else None), (literals, seg)


def test_many_params_in_one_template() -> None:
    r = router({"/{a}/{b}/{c}/{d}/{e}": ["get"]})
    m = r.match("GET", "/1/2/3/4/5")
    assert m is not None
    assert m.path_params == {"a": "1", "b": "2", "c": "3", "d": "4", "e": "5"}


def test_partial_segment_literals_are_not_regex() -> None:
    r = router({"/f/{name}.(json)": ["get"]})
    assert hit(r, "GET", "/f/a.(json)") == ("GET /f/{name}.(json)", {"name": "a"})
    assert hit(r, "GET", "/f/axjson") is None


def test_params_never_cross_a_slash_nor_match_empty() -> None:
    r = router({"/a/{x}": ["get"], "/b/{x}/c": ["get"]})
    assert hit(r, "GET", "/a/1/2") is None
    assert hit(r, "GET", "/a/") is None
    assert hit(r, "GET", "/b//c") is None


def test_params_from_several_segments() -> None:
    r = router({"/orgs/{org}/repos/{repo}/issues/{number}": ["get"]})
    m = r.match("GET", "/orgs/acme/repos/web/issues/7")
    assert m is not None
    assert m.path_params == {"org": "acme", "repo": "web", "number": "7"}


def test_templates_differing_only_in_param_names() -> None:
    r = router({"/a/{x}": ["get"], "/a/{y}": ["delete"]})
    assert hit(r, "GET", "/a/1") == ("GET /a/{x}", {"x": "1"})
    assert hit(r, "DELETE", "/a/1") == ("DELETE /a/{y}", {"y": "1"})
    assert r.allowed_methods("/a/1") == {"GET", "HEAD", "DELETE"}


def test_same_shape_same_method_first_wins() -> None:
    r = router({"/a/{x}": ["get"], "/a/{y}": ["get"]})
    assert hit(r, "GET", "/a/1") == ("GET /a/{x}", {"x": "1"})


def test_allowed_methods_for_405() -> None:
    r = router({"/users": ["get", "post"], "/users/{id}": ["get", "delete"], "/x": ["put"]})
    assert r.match("PATCH", "/users/1") is None
    assert r.allowed_methods("/users/1") == {"GET", "HEAD", "DELETE"}
    assert r.allowed_methods("/users?page=2") == {"GET", "HEAD", "POST"}
    assert r.allowed_methods("/x") == {"PUT"}
    assert r.allowed_methods("/nowhere") == set()


def test_query_is_ignored() -> None:
    r = router({"/users/{id}/orders": ["get"], "/users": ["get"]})
    assert hit(r, "GET", "/users/42/orders?x=1") == ("GET /users/{id}/orders", {"id": "42"})
    assert hit(r, "GET", "/users?") == ("GET /users", {})
    assert hit(r, "GET", "/users?a=/b/c?d") == ("GET /users", {})


def test_method_is_case_insensitive() -> None:
    r = router({"/users": ["get"], "/users/{id}": ["patch"]})
    assert hit(r, "get", "/users") == ("GET /users", {})
    assert hit(r, "Patch", "/users/1") == ("PATCH /users/{id}", {"id": "1"})
    assert hit(r, "PROPFIND", "/users") is None


def test_head_falls_back_to_get_only_without_a_head_operation() -> None:
    r = router({"/a": ["get"], "/b": ["get", "head"], "/c/{id}": ["get"], "/d": ["post"]})
    assert hit(r, "HEAD", "/a") == ("GET /a", {})
    assert hit(r, "head", "/b") == ("HEAD /b", {})
    assert hit(r, "HEAD", "/c/1") == ("GET /c/{id}", {"id": "1"})
    assert hit(r, "HEAD", "/d") is None
    assert r.allowed_methods("/b") == {"GET", "HEAD"}


def test_head_fallback_in_a_spec_without_any_head() -> None:
    r = router({"/a/{id}": ["get"]})
    assert hit(r, "HEAD", "/a/1") == ("GET /a/{id}", {"id": "1"})


def test_trailing_slash_is_strict() -> None:
    r = router({"/users": ["get"], "/teams/": ["get"], "/orgs/{id}": ["get"]})
    assert hit(r, "GET", "/users/") is None
    assert hit(r, "GET", "/teams") is None
    assert hit(r, "GET", "/teams/") == ("GET /teams/", {})
    assert hit(r, "GET", "/orgs/1/") is None
    assert hit(r, "GET", "users") is None


def test_unicode_and_percent_encoded_segments() -> None:
    r = router({"/café/{name}": ["get"], "/files/{path}": ["get"]})
    assert hit(r, "GET", "/café/crème") == ("GET /café/{name}", {"name": "crème"})
    # no decoding: the caller canonicalises; params come back raw
    assert hit(r, "GET", "/caf%C3%A9/x") is None
    assert hit(r, "GET", "/files/a%2Fb%20c") == ("GET /files/{path}", {"path": "a%2Fb%20c"})
    assert hit(r, "GET", "/files/%E2%9C%93") == ("GET /files/{path}", {"path": "%E2%9C%93"})


def test_base_path_is_stripped() -> None:
    r = router({"/users/{id}": ["get"], "/": ["get"]}, base_paths=["/api/v1/"])
    assert hit(r, "GET", "/api/v1/users/7") == ("GET /users/{id}", {"id": "7"})
    assert hit(r, "GET", "/api/v1/") == ("GET /", {})
    assert hit(r, "GET", "/api/v1") is None
    assert hit(r, "GET", "/users/7") is None
    assert hit(r, "GET", "/api/v1x/users/7") is None
    assert r.allowed_methods("/api/v1/users/7?q") == {"GET", "HEAD"}


def test_several_base_paths_longest_first_with_fallback() -> None:
    r = router({"/api/users": ["get"], "/users": ["get"]}, base_paths=["/", "/api"])
    assert hit(r, "GET", "/api/users") == ("GET /users", {})
    assert hit(r, "GET", "/users") == ("GET /users", {})
    r = router({"/api/things": ["get"]}, base_paths=["", "/api"])
    assert hit(r, "GET", "/api/things") == ("GET /api/things", {})


@pytest.mark.parametrize("bad", ["api", "/v{version}", "/a?b"])
def test_bad_base_path_is_a_config_error(bad: str) -> None:
    with pytest.raises(ConfigError, match="base path"):
        router({"/a": ["get"]}, base_paths=[bad])


def test_server_base_paths() -> None:
    loc = Location("<memory>", "/servers/0")
    servers = [
        Server("https://api.example.com/v1/", "", {}, loc),
        Server("https://api.example.com", "", {}, loc),
        Server("/relative", "", {}, loc),
        Server("https://{host}/{base}", "", {"base": {"default": "v2"}}, loc),
        Server("https://x/{nodefault}", "", {}, loc),
    ]
    assert server_base_paths(servers) == ["/v1", "", "/relative", "/v2"]


def test_empty_spec() -> None:
    r = Router([])
    assert r.match("GET", "/") is None
    assert r.match("HEAD", "/") is None
    assert r.allowed_methods("/") == set()
    assert router({}).match("GET", "/x") is None


def test_braces_that_are_not_params_are_literal() -> None:
    r = router({"/a/{b": ["get"]})
    assert hit(r, "GET", "/a/{b") == ("GET /a/{b", {})
    assert hit(r, "GET", "/a/x") is None


def _reference(templates: list[str], path: str) -> str | None:
    """Brute force: of the templates matching ``path``, the one OpenAPI precedence ranks first."""

    def rank(template: str) -> list[tuple[Any, ...]]:
        out: list[tuple[Any, ...]] = []
        for seg in template.split("/"):
            pieces = re.split(r"\{[^{}/]*\}", seg)
            if len(pieces) == 1:
                out.append((0,))
            elif pieces == ["", ""]:
                out.append((2,))
            else:
                out.append((1, -sum(map(len, pieces)), len(pieces), tuple(pieces)))
        return out

    def regex(template: str) -> re.Pattern[str]:
        parts = re.split(r"\{[^{}/]*\}", template)
        return re.compile("([^/]+?)".join(re.escape(p) for p in parts))

    matching = [t for t in templates if regex(t).fullmatch(path)]
    return min(matching, key=rank) if matching else None


def test_precedence_agrees_with_brute_force() -> None:
    rng = random.Random(5)
    words = ["a", "b", "{x}", "{y}.j", "v{z}", "{p}-{q}"]
    for _ in range(200):
        templates = list(
            {"/" + "/".join(rng.choice(words) for _ in range(rng.randint(1, 3))) for _ in range(8)}
        )
        r = router({t: ["get"] for t in templates})
        # two templates of one shape: only the first counts, as in the router
        seen: dict[str, str] = {}
        for t in templates:
            seen.setdefault(re.sub(r"\{[^{}/]*\}", "{}", t), t)
        firsts = list(seen.values())
        for _ in range(20):
            path = "/" + "/".join(
                rng.choice(["a", "b", "1", "x.j", "v2", "m-n", "v-1.j", ""])
                for _ in range(rng.randint(1, 3))
            )
            m = r.match("GET", path)
            assert (m.operation.path if m else None) == _reference(firsts, path), (templates, path)
