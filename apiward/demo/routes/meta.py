"""The API's own description, served as YAML and JSON."""

from __future__ import annotations

import functools
import importlib.resources
from typing import Any

import yaml
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route


@functools.cache
def spec_text() -> str:
    """The text of ``apiward/demo/openapi.yaml``."""
    return importlib.resources.files("apiward.demo").joinpath("openapi.yaml").read_text("utf-8")


@functools.cache
def spec_data() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load(spec_text())
    return data


async def openapi_yaml(request: Request) -> Response:
    return Response(spec_text(), media_type="application/yaml")


async def openapi_json(request: Request) -> Response:
    return JSONResponse(spec_data())


def routes(secure: bool) -> list[BaseRoute]:
    return [
        Route("/openapi.yaml", openapi_yaml, methods=["GET"]),
        Route("/openapi.json", openapi_json, methods=["GET"]),
    ]
