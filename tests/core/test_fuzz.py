"""Odd documents end in an apiward error or a usable model: never another exception."""

from __future__ import annotations

import contextlib
import json
import random
from typing import Any

import pytest
import yaml

from apiward.core import Document, Location, from_dict, loads
from apiward.errors import ApiwardError
from tests.core.fuzzspecs import OAS3, SWAGGER, mutants


def exercise(doc: Document) -> None:
    """Touch every part of the model the tools use."""
    for op in doc.operations:
        doc.locate(op.location)
        _ = (op.requires_auth, op.key, op.extensions, op.servers)
    _ = (doc.security_schemes, doc.servers, doc.security)
    index = doc.schema_index
    for node in index:
        _ = (index.in_request(node), index.in_response(node), node.name, node.types)
        doc.usages(node.location)
        doc.locate(node.location)
    doc.locate(Location(doc.uri, "/paths/nowhere/get"))


@pytest.mark.parametrize(("base", "seed"), [(OAS3, 1), (OAS3, 2), (SWAGGER, 3), (SWAGGER, 4)])
def test_mutated_documents(base: dict[str, Any], seed: int) -> None:
    for data in mutants(base, 250, seed):
        with contextlib.suppress(ApiwardError):
            exercise(from_dict(data))


_BITS = [
    ":", "-", "[", "]", "{", "}", "&a ", "*a", "<<: ", "!!str ", "!x ", "\t", '"', "'", "\n",
    "  ", "~", "? ", "---\n", "%YAML 1.1\n", "\x00", "\ufeff", "é", "#", "|", ">", ",", "0x",
    "2020-01-01", "*b", "&b ", "\\u00", "1e999", "!!bool ", "!!int ",
]  # fmt: skip


@pytest.mark.parametrize("seed", range(4))
def test_mutated_text(seed: int) -> None:
    rng = random.Random(seed)
    texts = [
        yaml.safe_dump(OAS3, sort_keys=False),
        yaml.safe_dump(SWAGGER, sort_keys=False),
        json.dumps(OAS3, indent=1),
        json.dumps(SWAGGER),
    ]
    for i in range(400):
        text = rng.choice(texts)
        for _ in range(rng.randint(1, 4)):
            at = rng.randrange(len(text))
            text = text[:at] + rng.choice(_BITS) + text[at + rng.choice([0, 0, 1, 3]) :]
        with contextlib.suppress(ApiwardError):
            exercise(loads(text, uri="x.yaml" if i % 2 else "x.json"))
