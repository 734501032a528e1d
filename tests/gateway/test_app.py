"""The Gateway app in-process: several APIs by base path, alerts to a real webhook, reload."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from apiward.config.gateway import GatewaySection
from apiward.demo import serve_app
from apiward.gateway.app import Gateway


def _spec(tmp: Path, name: str, base: str) -> str:
    path = tmp / f"{name}.json"
    path.write_text(
        json.dumps(
            {
                "openapi": "3.1.0",
                "info": {"title": name, "version": "1"},
                "servers": [{"url": base}],
                "security": [],
                "paths": {
                    "/hello": {
                        "get": {
                            "responses": {
                                "200": {
                                    "description": "ok",
                                    "content": {
                                        "application/json": {
                                            "schema": {
                                                "type": "object",
                                                "properties": {"api": {"type": "string"}},
                                            }
                                        }
                                    },
                                }
                            }
                        }
                    }
                },
            }
        )
    )
    return str(path)


async def _hello(request: Request) -> Response:
    return JSONResponse({"api": request.url.path, "secret": "x"})


@pytest.fixture(scope="module")
def upstream() -> Iterator[str]:
    app = Starlette(routes=[Route("/{path:path}", _hello)])
    with serve_app(app) as url:
        yield url


def _section(tmp: Path, upstream: str, **extra: Any) -> GatewaySection:
    data: dict[str, Any] = {
        "audit": {"store": f"sqlite:{tmp / 'audit.db'}", "spool-dir": str(tmp / "spool")},
        "apis": [
            {"name": "one", "spec": _spec(tmp, "one", "/one"), "upstream": {"targets": [upstream]}},
            {"name": "two", "spec": _spec(tmp, "two", "/two"), "upstream": {"targets": [upstream]}},
        ],
        **extra,
    }
    return GatewaySection.model_validate(data)


def test_requests_go_to_the_api_whose_base_path_matches(tmp_path: Path, upstream: str) -> None:
    gateway = Gateway(_section(tmp_path, upstream))
    with serve_app(gateway) as url:
        one = httpx.get(url + "/one/hello")
        two = httpx.get(url + "/two/hello")
        nowhere = httpx.get(url + "/three/hello")
    assert (one.status_code, one.json()) == (200, {"api": "/one/hello"})  # "secret" filtered
    assert two.json() == {"api": "/two/hello"}
    assert (nowhere.status_code, nowhere.json()["reason"]) == (404, "unknown_path")


def test_an_auth_failure_burst_reaches_the_webhook_signed(tmp_path: Path, upstream: str) -> None:
    received: list[tuple[dict[str, Any], str]] = []

    async def hook(request: Request) -> Response:
        received.append((await request.json(), request.headers.get("x-apiward-signature", "")))
        return Response(status_code=204)

    with serve_app(Starlette(routes=[Route("/hook", hook, methods=["POST"])])) as hook_url:
        spec = _spec(tmp_path, "locked", "/locked")
        data = json.loads(Path(spec).read_text())
        data["security"] = [{"bearer": []}]
        data["components"] = {"securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}}}
        Path(spec).write_text(json.dumps(data))
        section = GatewaySection.model_validate(
            {
                "audit": {"store": f"sqlite:{tmp_path / 'a.db'}", "spool-dir": str(tmp_path / "s")},
                "alerts": {
                    "webhook": {"url": hook_url + "/hook", "secret": "hook-secret"},
                    "rules": {"auth-failures": {"threshold": 5, "window": "1m"}},
                },
                "apis": [
                    {
                        "name": "locked",
                        "spec": spec,
                        "upstream": {"targets": [upstream]},
                        "auth": {
                            "jwt": {
                                "bearer": {"keys": [{"secret": "k" * 40, "algorithms": ["HS256"]}]}
                            }
                        },
                    }
                ],
            }
        )
        gateway = Gateway(section)
        with serve_app(gateway) as url:
            codes = [httpx.get(url + "/locked/hello").status_code for _ in range(6)]
            deadline = time.monotonic() + 10
            while not received and time.monotonic() < deadline:
                time.sleep(0.05)
            assert [a.rule for a in gateway.recent_alerts.alerts] == ["auth-failures"]
    assert codes == [401] * 6
    assert len(received) == 1  # one alert per burst, not one per request
    alert, signature = received[0]
    assert alert["rule"] == "auth-failures" and alert["api"] == "locked"
    assert signature.startswith("sha256=")


def test_a_bad_reload_keeps_the_running_apis(tmp_path: Path, upstream: str) -> None:
    good = _section(tmp_path, upstream)
    sections = [good.model_copy(update={"apis": good.apis[:1]})]
    gateway = Gateway(good, reload_from=lambda: sections[0])

    async def go() -> tuple[Any, Any, Any]:
        await gateway.start()
        first = await gateway.reload()  # one API left
        broken = good.apis[0].model_copy(update={"spec": str(tmp_path / "missing.yaml")})
        sections[0] = good.model_copy(update={"apis": [broken]})
        second = await gateway.reload()
        names = [a.name for a in gateway.apis]
        await gateway.aclose()
        return first, second, names

    first, second, names = asyncio.run(go())
    assert first.ok and first.generation == 2
    assert not second.ok and "spec" in second.message and second.generation == 2
    assert names == ["one"]


def test_an_api_named_for_the_host_wins_over_one_for_any_host(
    tmp_path: Path, upstream: str
) -> None:
    open_spec = _spec(tmp_path, "open", "/one")
    locked_spec = _spec(tmp_path, "locked", "/one")
    data = json.loads(Path(locked_spec).read_text())
    data["security"] = [{"bearer": []}]
    data["components"] = {"securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}}}
    Path(locked_spec).write_text(json.dumps(data))
    jwt = {"bearer": {"keys": [{"secret": "k" * 40, "algorithms": ["HS256"]}]}}
    section = GatewaySection.model_validate(
        {
            "audit": {"store": f"sqlite:{tmp_path / 'h.db'}", "spool-dir": str(tmp_path / "hs")},
            "apis": [
                {"name": "open", "spec": open_spec, "upstream": {"targets": [upstream]}},
                {
                    "name": "internal",
                    "spec": locked_spec,
                    "hosts": ["internal.example"],
                    "upstream": {"targets": [upstream]},
                    "auth": {"jwt": jwt},
                },
            ],
        }
    )
    with serve_app(Gateway(section)) as url:
        assert httpx.get(url + "/one/hello").status_code == 200
        internal = httpx.get(url + "/one/hello", headers={"Host": "internal.example"})
    assert internal.status_code == 401


@pytest.mark.parametrize(
    ("change", "key"),
    [
        ({"revocations": {"file": "elsewhere.json"}}, "gateway.revocations"),
        ({"identity-headers": ["X-U", "X-S"]}, "gateway.identity-headers"),
    ],
)
def test_a_reload_that_changes_shared_state_is_refused(
    tmp_path: Path, upstream: str, change: dict[str, Any], key: str
) -> None:
    good = _section(tmp_path, upstream)
    changed = _section(tmp_path, upstream, **change)
    gateway = Gateway(good, reload_from=lambda: changed)

    async def go() -> Any:
        await gateway.start()
        try:
            return await gateway.reload()
        finally:
            await gateway.aclose()

    result = asyncio.run(go())
    assert not result.ok and f"{key} changed: it takes a restart" in result.message
