"""redos: a small app whose search parameter is matched by an evil regex, and its fix."""

from __future__ import annotations

import asyncio
import re

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from apiward.core import Document
from tests.scan.conftest import openapi, scan_demo, scan_spec, served

CHECK = "redos"
EVIL = re.compile(r"^(\d+)+$")  # catastrophic on digits then a letter
LINEAR = re.compile(r"^\d+$")

SPEC = openapi({
    "/words": {
        "get": {
            "parameters": [
                {"name": "search", "in": "query", "required": True,
                 "schema": {"type": "string"}},
                {"name": "page", "in": "query", "schema": {"type": "integer"}},
            ],
            "responses": {"200": {"description": "ok"}},
        }
    }
})  # fmt: skip


def _app(fixed: bool) -> Starlette:
    def words(request: Request) -> Response:  # sync: Starlette runs it in a thread
        text = request.query_params.get("search", "")
        matched = (LINEAR if fixed else EVIL).match(text[:64]) is not None
        return JSONResponse({"items": [text[:10]] if matched else []})

    return Starlette(routes=[Route("/words", words)])


words_app = served(_app, False, True, ids=["vulnerable", "fixed"])


def test_fires_on_an_evil_regex_only(words_app: tuple[bool, str]) -> None:
    fixed, url = words_app
    result = scan_spec(SPEC, url, CHECK)
    if fixed:
        assert result.findings == []
        return
    (finding,) = result.findings
    assert finding.usages[0].key == "GET /words" and finding.key == "search"
    assert len(finding.evidence) == 3


def _noisy_app(_: object) -> Starlette:
    """Digits then a letter cost 0.9 s at 24 digits; the first 22-digit try is slowed once.

    The one slow 22-digit answer stands for a busy machine: it fails to confirm,
    and the real blow-up one step later is not twice as slow as it.
    """
    seen: set[int] = set()

    async def words(request: Request) -> Response:
        text = request.query_params.get("search", "")
        digits = len(text) - 1 if text[:-1].isdigit() and text.endswith("x") else 0
        delay = {22: 0.1, 24: 0.9, 26: 1.5}.get(digits, 0.0)
        if digits == 22 and digits not in seen:
            seen.add(digits)
            delay = 1.0
        await asyncio.sleep(delay)
        return JSONResponse({"items": []})

    return Starlette(routes=[Route("/words", words)])


noisy_app = served(_noisy_app, None)


def test_a_shorter_try_slowed_by_a_busy_machine_does_not_hide_the_blow_up(
    noisy_app: tuple[None, str],
) -> None:
    _, url = noisy_app
    (finding,) = scan_spec(SPEC, url, CHECK).findings
    assert "a 25-character search ('000000000000'" in finding.message


def test_quiet_on_the_secure_demo(demo_doc: Document, secure: str) -> None:
    # (the vulnerable demo has no ReDoS either: its patterns are linear)
    assert scan_demo(demo_doc, secure, CHECK).findings == []
