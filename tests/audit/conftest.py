from __future__ import annotations

from typing import Any

import pytest

from apiward.audit import RULES
from apiward.audit.rule import Hit
from apiward.core import Document, from_dict


def spec(paths: dict[str, Any] | None = None, **top: Any) -> Document:
    """A minimal OpenAPI 3.1 document; keyword arguments become top-level fields."""
    data: dict[str, Any] = {
        "openapi": "3.1.0",
        "info": {"title": "t", "version": "1"},
        "paths": paths or {},
    }
    data.update(top)
    return from_dict(data)


def run(rule_id: str, doc: Document) -> list[Hit]:
    return list(RULES.get(rule_id)(doc))


@pytest.fixture
def make_spec() -> Any:
    return spec
