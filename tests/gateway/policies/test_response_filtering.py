"""The response filter in front of the demo bank: only declared fields leave, secrets masked."""

from __future__ import annotations

import json
from collections.abc import Iterator

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, PlainTextResponse, Response
from starlette.routing import Route

from apiward.core import from_dict
from apiward.demo import serve_app
from apiward.gateway.chain import ApiSetup
from apiward.gateway.middleware import GatewayMiddleware
from apiward.gateway.policies import ResponseFiltering
from apiward.gateway.policies.response_filtering import _dumps, _loads
from tests.gateway.policies.conftest import bank, bearer


@pytest.fixture(scope="module")
def client() -> Iterator[httpx.Client]:
    with bank() as c:
        yield c


def test_sensitive_values_are_masked(client: httpx.Client) -> None:
    r = client.get("/users/me", headers=bearer())
    assert r.status_code == 200
    me = r.json()
    assert me["username"] == "alice"  # declared and harmless: kept
    assert me["password_hash"] == "****"
    assert me["ssn"] == "****"
    assert int(r.headers["content-length"]) == len(r.content)


def test_undeclared_fields_are_stripped_and_declared_ones_kept() -> None:
    with bank(response_filter=False) as raw:
        unfiltered = raw.get("/accounts/1", headers=bearer()).json()
    with bank() as filtered:
        account = filtered.get("/accounts/1", headers=bearer()).json()
    assert set(account) <= set(unfiltered)
    assert account["id"] == unfiltered["id"]
    assert "balance" in account


def test_off_passes_the_upstream_body_as_it_is() -> None:
    with bank(response_filter=False) as raw:
        me = raw.get("/users/me", headers=bearer()).json()
    assert me["password_hash"] not in ("****", None)


@pytest.mark.parametrize(
    "body",
    [
        b'{"a":1}',
        b' \n{"a": [1, 2.5e3, "x\\u00e9", null, true]}\t\r\n',
        b"\xef\xbb\xbf[]",
        '{"a":"\u00e9"}'.encode("utf-16"),
        '{"a":"\u00e9"}'.encode("utf-32-le"),
        b"NaN",
        b'"\\ud800"',
    ],
)
def test_bodies_parse_and_serialise_as_the_json_module_does(body: bytes) -> None:
    value = _loads(body)
    assert repr(value) == repr(json.loads(body))
    assert _dumps(value) == json.dumps(value, ensure_ascii=False, separators=(",", ":"))


@pytest.mark.parametrize("body", [b"", b" ", b'{"a":1} x', b"[1,", b"\xff\xff\xff", b'"\x01"'])
def test_what_the_json_module_refuses_is_refused(body: bytes) -> None:
    with pytest.raises(ValueError) as ours:
        _loads(body)
    with pytest.raises(ValueError) as theirs:
        json.loads(body)
    assert (type(ours.value), str(ours.value)) == (type(theirs.value), str(theirs.value))


def test_a_lone_surrogate_in_the_upstreams_json_is_refused_not_a_crash() -> None:
    from apiward.core import Match, load
    from apiward.demo import demo_file
    from apiward.gateway.chain import ApiSetup, Exchange
    from apiward.gateway.policies import ResponseFiltering
    from apiward.gateway.policy import Refusal

    setup = ApiSetup("bank", load(demo_file("openapi.yaml")))
    policy = ResponseFiltering(setup)
    op = next(o for o in setup.doc.operations if o.key == "GET /users/me")

    async def receive() -> dict[str, object]:
        return {"type": "http.request"}

    ex = Exchange({}, [], "GET", "/users/me", "127.0.0.1", receive)
    ex.match = Match(op, {})
    answer = policy.on_body(ex, 200, [], b'{"id": 1, "username": "\\ud800"}')
    assert isinstance(answer, Refusal)
    assert (answer.status, answer.reason) == (502, "response.json")


def _leaky_app() -> Starlette:
    async def boom(request: Request) -> Response:
        trace = "<h1>Traceback</h1><pre>File app.py, line 3: db_password=hunter2</pre>"
        return HTMLResponse(trace, status_code=500)

    async def text(request: Request) -> Response:
        return PlainTextResponse("plain words", status_code=200)

    return Starlette(
        routes=[Route("/boom", boom), Route("/legacy/boom", boom), Route("/text", text)]
    )


LEAKY = from_dict(
    {
        "openapi": "3.1.0",
        "info": {"title": "leaky", "version": "1"},
        "security": [],
        "paths": {
            "/boom": {"get": {"responses": {"200": {"description": "ok"}}}},
            "/text": {
                "get": {"responses": {"200": {"description": "ok", "content": {"text/plain": {}}}}}
            },
        },
    }
)


def test_an_upstream_error_page_goes_out_as_a_generic_error() -> None:
    setup = ApiSetup("leaky", LEAKY)
    with serve_app(
        GatewayMiddleware(_leaky_app(), LEAKY, policies=[ResponseFiltering(setup)])
    ) as url:
        boom = httpx.get(url + "/boom")
        text = httpx.get(url + "/text")
    assert boom.status_code == 500 and "hunter2" not in boom.text
    assert boom.json() == {"error": "upstream_error", "status": 500}
    assert int(boom.headers["content-length"]) == len(boom.content)
    # not an error: other media types pass as they are
    assert (text.status_code, text.text) == (200, "plain words")


def test_an_error_page_on_a_pass_through_path_is_masked_too() -> None:
    policy = ResponseFiltering(ApiSetup("leaky", LEAKY))
    app = GatewayMiddleware(_leaky_app(), LEAKY, policies=[policy], passthrough=["/legacy/*"])
    with serve_app(app) as url:
        boom = httpx.get(url + "/legacy/boom")
    assert boom.status_code == 500 and "hunter2" not in boom.text
    assert boom.json() == {"error": "upstream_error", "status": 500}


def test_masking_upstream_errors_can_be_turned_off() -> None:
    setup = ApiSetup("leaky", LEAKY)
    policy = ResponseFiltering(setup, mask_upstream_errors=False)
    with serve_app(GatewayMiddleware(_leaky_app(), LEAKY, policies=[policy])) as url:
        boom = httpx.get(url + "/boom")
    assert boom.status_code == 500 and "hunter2" in boom.text
