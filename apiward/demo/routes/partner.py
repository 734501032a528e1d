"""The partner merchant feed: the bank pulls a partner's JSON into its merchant directory."""

from __future__ import annotations

import hmac
import json
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from apiward.demo.db import PARTNER_API_KEY
from apiward.demo.fetch import fetch
from apiward.demo.http import ApiError, read_json
from apiward.demo.state import Demo, demo

MAX_ITEMS = 500
CATEGORIES = frozenset({"food", "books", "travel", "electronics", "health", "other"})
_FIELDS = ("name", "category", "city")


async def sync_merchants(request: Request) -> Response:
    instance = demo(request)
    given = request.query_params.get("api_key", "")
    if not hmac.compare_digest(given.encode(), PARTNER_API_KEY.encode()):
        raise ApiError(401, "invalid partner api_key")
    data = await read_json(request) if (await request.body()).strip() else {}
    configured = instance.settings.partner_feed_url
    feed_url = data.get("feed_url") or configured
    if not isinstance(feed_url, str):
        raise ApiError(400, "feed_url must be a string")
    categories = data.get("categories")
    if instance.secure:
        if feed_url != configured:
            raise ApiError(400, "feed_url must be the configured partner feed")
        if categories is not None and not _known_categories(categories):
            raise ApiError(400, f"categories must be a list of: {', '.join(sorted(CATEGORIES))}")
    body, _ = await fetch(feed_url, verbose_errors=not instance.secure)
    importer = _import_checked if instance.secure else _import_trusting
    count = importer(instance, body, set(categories) if categories else None)
    return JSONResponse({"imported": count, "feed_url": feed_url})


def _known_categories(value: Any) -> bool:
    return (
        isinstance(value, list)
        and len(value) <= len(CATEGORIES)
        and all(isinstance(c, str) and c in CATEGORIES for c in value)
    )


def _import_trusting(instance: Demo, body: bytes, categories: set[str] | None) -> int:
    """The partner is trusted: its JSON goes straight into the SQL text."""
    items = json.loads(body)
    if isinstance(items, dict):
        items = items.get("merchants", [])
    if categories:
        items = [item for item in items if item["category"] in categories]
    for item in items:
        instance.db.execute(
            "INSERT INTO merchants (name, category, city) "
            f"VALUES ('{item['name']}', '{item['category']}', '{item['city']}')"
        )
    return len(items)


def _import_checked(instance: Demo, body: bytes, categories: set[str] | None) -> int:
    """Upstream data is input: parsed, bounded, validated, then bound as parameters."""
    try:
        items = json.loads(body)
    except ValueError:
        raise ApiError(502, "the partner feed is not JSON") from None
    if isinstance(items, dict):
        items = items.get("merchants")
    if not isinstance(items, list) or len(items) > MAX_ITEMS:
        raise ApiError(502, f"the partner feed must be a list of at most {MAX_ITEMS} merchants")
    rows = [_merchant(item) for item in items]
    if categories:
        rows = [row for row in rows if row[1] in categories]
    for row in rows:
        instance.db.execute("INSERT INTO merchants (name, category, city) VALUES (?, ?, ?)", row)
    return len(rows)


def _merchant(item: Any) -> tuple[str, str, str]:
    if not isinstance(item, dict) or not all(isinstance(item.get(f), str) for f in _FIELDS):
        raise ApiError(502, "the partner feed has a malformed merchant")
    name, category, city = (item[f] for f in _FIELDS)
    if not (0 < len(name) <= 64 and 0 < len(city) <= 64) or category not in CATEGORIES:
        raise ApiError(502, "the partner feed has a merchant that fails validation")
    if any(not (c.isalnum() or c in " .,&'-") for c in name + city):
        raise ApiError(502, "the partner feed has a merchant with unexpected characters")
    return name, category, city


def routes(secure: bool) -> list[BaseRoute]:
    return [Route("/partner/merchants/sync", sync_merchants, methods=["POST"])]
