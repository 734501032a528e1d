"""Scans of real servers on 127.0.0.1: the demo bank in both modes, and small apps."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
from starlette.types import ASGIApp

from apiward.config import load_config
from apiward.core import Document, from_dict, load
from apiward.demo import Settings, demo_file, serve, serve_app
from apiward.scan import ScanOptions, ScanResult, scan

DEMO_SPEC = demo_file("openapi.yaml")
DEMO_CONFIG = demo_file("scan.yaml")


@pytest.fixture(scope="session")
def demo_doc() -> Document:
    return load(DEMO_SPEC)


def demo_options(url: str, *checks: str, **overrides: Any) -> ScanOptions:
    section = load_config(DEMO_CONFIG).scan
    return ScanOptions.from_section(section, url, select=tuple(checks), **overrides)


def scan_demo(doc: Document, url: str, *checks: str, **overrides: Any) -> ScanResult:
    """Scan a demo instance with only ``checks`` (all when none are named)."""
    result = scan(doc, demo_options(url, *checks, **overrides))
    assert not result.errors, result.errors
    return result


@pytest.fixture
def vulnerable() -> Iterator[str]:
    """A fresh vulnerable demo bank (checks change its data)."""
    with serve(False, settings=Settings()) as url:
        yield url


@pytest.fixture
def secure() -> Iterator[str]:
    """A fresh secure demo bank."""
    with serve(True, settings=Settings()) as url:
        yield url


def rule_ids(result: ScanResult) -> set[str]:
    return {f.rule_id for f in result.findings}


def demo_auth(url: str, username: str, password: str) -> dict[str, str]:
    """The Authorization header of a demo user, logged in for real."""
    body = {"username": username, "password": password}
    token = httpx.post(f"{url}/auth/login", json=body).json()["access_token"]
    return {"Authorization": f"Bearer {token}"}


# ---------------------------------------------------------------- small apps

BEARER = {"bearer": {"type": "http", "scheme": "bearer"}}
X_KEY = {"key": {"type": "apiKey", "in": "header", "name": "X-Key"}}


def openapi(
    paths: dict[str, Any], schemes: dict[str, Any] | None = None, **components: Any
) -> dict[str, Any]:
    """A small OpenAPI 3.0 document; every one of ``schemes`` is required on every operation."""
    doc: dict[str, Any] = {"openapi": "3.0.3", "info": {"title": "t", "version": "1"}}
    if schemes or components:
        doc["components"] = {**({"securitySchemes": schemes} if schemes else {}), **components}
    if schemes:
        doc["security"] = [{name: [] for name in schemes}]
    doc["paths"] = paths
    return doc


def scan_spec(spec: dict[str, Any], url: str, *checks: str, **options: Any) -> ScanResult:
    """Scan a small app at ``url`` with only ``checks``; ``options`` go to :class:`ScanOptions`."""
    result = scan(from_dict(spec), ScanOptions(target=url, select=checks, **options))
    assert not result.errors, result.errors
    return result


def serve_param(
    request: pytest.FixtureRequest, make_app: Callable[[Any], ASGIApp]
) -> Iterator[tuple[Any, str]]:
    """Serve ``make_app(request.param)`` on 127.0.0.1, yielding the param and the URL."""
    with serve_app(make_app(request.param)) as url:
        yield request.param, url


def served(make_app: Callable[[Any], ASGIApp], *params: Any, ids: list[str] | None = None) -> Any:
    """A fixture serving ``make_app(param)`` for each of ``params``: ``app = served(_app, ...)``."""

    @pytest.fixture(params=params, ids=ids)
    def fixture(request: pytest.FixtureRequest) -> Iterator[tuple[Any, str]]:
        yield from serve_param(request, make_app)

    return fixture
