"""JSON pointer -> (line, column), checked against independent oracles on random documents."""

from __future__ import annotations

import json
import random
from collections.abc import Iterator
from typing import Any

import pytest
import yaml

from apiward.core import pointer as jp
from apiward.core.positions import PositionIndex

KEYS = ["a", "get", "/pets/{id}", "a~b", "x/y~1", "é", "日本", "200", "key with space", "$ref", ""]
STRINGS = ["", "plain", "é日本", 'q"uote', "new\nline", "[not, a, list]", "#", "tab\there"]


def random_data(rng: random.Random, depth: int = 0) -> Any:
    roll = rng.random()
    if depth >= 4 or roll < 0.3:
        return rng.choice([0, -1.5, True, None, *STRINGS])
    if roll < 0.6:
        return [random_data(rng, depth + 1) for _ in range(rng.randint(0, 4))]
    keys = rng.sample(KEYS, rng.randint(0, 5))
    return {k: random_data(rng, depth + 1) for k in keys}


def pointers(data: Any, at: str = "") -> Iterator[tuple[str, Any]]:
    yield at, data
    if isinstance(data, dict):
        for k, v in data.items():
            yield from pointers(v, jp.join(at, k))
    elif isinstance(data, list):
        for i, v in enumerate(data):
            yield from pointers(v, jp.join(at, i))


def offset_of(text: str, line: int, column: int) -> int:
    lines = text.split("\n")
    return sum(len(x) + 1 for x in lines[: line - 1]) + column - 1


def yaml_oracle(text: str) -> dict[str, tuple[int, int]]:
    """Positions from PyYAML's pure-Python composer: keys for members, nodes for items."""
    out: dict[str, tuple[int, int]] = {}
    root = yaml.compose(text, Loader=yaml.SafeLoader)

    def walk(node: yaml.Node, at: str, mark: yaml.Mark) -> None:
        out[at] = (mark.line + 1, mark.column + 1)
        if isinstance(node, yaml.MappingNode):
            for key, value in node.value:
                walk(value, jp.join(at, key.value), key.start_mark)
        elif isinstance(node, yaml.SequenceNode):
            for i, value in enumerate(node.value):
                walk(value, jp.join(at, i), value.start_mark)

    walk(root, "", root.start_mark)
    return out


@pytest.mark.parametrize("seed", range(40))
@pytest.mark.parametrize("style", ["minified", "indented", "ascii"])
def test_json_positions_point_at_the_key_or_item(seed: int, style: str) -> None:
    data = {"root": random_data(random.Random(seed))}
    if style == "minified":
        text = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    else:
        text = json.dumps(data, ensure_ascii=style == "ascii", indent=2)
    index = PositionIndex(text, "json")
    for ptr, value in pointers(data):
        pos = index.position(ptr)
        assert pos is not None
        at = text[offset_of(text, *pos) :]
        tokens = jp.split(ptr)
        parent = jp.resolve(data, jp.join("", *tokens[:-1])) if tokens else None
        if isinstance(parent, dict):
            assert at.startswith(json.dumps(tokens[-1], ensure_ascii=style == "ascii") + ":")
        else:
            assert at.startswith(json.dumps(value, ensure_ascii=style == "ascii")[:1])
        if style == "minified":
            assert pos[0] == 1


@pytest.mark.parametrize("seed", range(40))
@pytest.mark.parametrize("flow", [False, True])
def test_yaml_positions_match_pyyaml_marks(seed: int, flow: bool) -> None:
    data = {"root": random_data(random.Random(seed))}
    text = yaml.safe_dump(data, default_flow_style=flow, allow_unicode=True, width=40)
    index = PositionIndex(text, "yaml")
    for ptr, expected in yaml_oracle(text).items():
        assert index.position(ptr) == expected, ptr


def test_missing_pointers_get_the_deepest_existing_ancestor() -> None:
    text = '{\n  "paths": {\n    "/a": {\n      "get": [1, 2]\n    }\n  }\n}'
    index = PositionIndex(text, "json")
    assert index.position("/paths/~1a/get") == (4, 7)
    assert index.position("/paths/~1a/get/7") == (4, 7)
    assert index.position("/paths/~1a/get/1/x") == (4, 18)
    assert index.position("/paths/~1b/post") == (2, 3)
    assert index.position("/nothing") == (1, 1)
    assert index.position("") == (1, 1)
    assert index.position("no-slash") is None
    yindex = PositionIndex("paths:\n  /a:\n    get: [1, 2]\n", "yaml")
    assert yindex.position("/paths/~1a/get/1/x") == (3, 14)
    assert yindex.position("/paths/~1b") == (1, 1)


def test_escaped_json_keys_and_crlf_lines() -> None:
    text = '{\r\n  "a\\"b": 1,\r\n  "\\u00e9": {"x/y": 2}\r\n}'
    index = PositionIndex(text, "json")
    assert index.position('/a"b') == (2, 3)
    assert index.position("/é/x~1y") == (3, 14)


def test_yaml_columns_count_characters_not_bytes() -> None:
    index = PositionIndex("{é日本: 1, b: 2}\n", "yaml")
    assert index.position("/b") == (1, 10)


def test_yaml_aliases_and_merges_point_into_the_anchor() -> None:
    text = "base: &b\n  x: 1\n  y: 2\nuse:\n  <<: *b\n  y: 3\nsame: *b\n"
    index = PositionIndex(text, "yaml")
    assert index.position("/use/x") == (2, 3)
    assert index.position("/use/y") == (6, 3)
    assert index.position("/same/y") == (3, 3)


def test_empty_and_broken_text_give_none_or_partial_answers() -> None:
    assert PositionIndex("", "json").position("/a") is None
    assert PositionIndex("", "yaml").position("/a") is None
    assert PositionIndex('{"a": {"b": ', "json").position("/a/b") == (1, 8)
    assert PositionIndex("a:\n  b: [\n", "yaml").position("/a/b") == (2, 3)


def test_lookups_in_a_large_minified_json_land_on_their_keys() -> None:
    # one 5 MB line: columns are all that tell places apart (the speed of this case is
    # measured by bench/, not asserted here)
    operation = {
        "parameters": [
            {"name": f"p{i}", "in": "query", "schema": {"type": "string"}} for i in range(5)
        ],
        "responses": {"200": {"description": "ok " * 20, "content": {"application/json": {}}}},
    }
    paths = {f"/resource{i}/{{id}}": {"get": operation, "put": operation} for i in range(6000)}
    text = json.dumps({"openapi": "3.0.0", "paths": paths}, separators=(",", ":"))
    assert len(text) > 5_000_000
    index = PositionIndex(text, "json")
    put = text.index('"put"', text.index('"/resource5999/{id}"'))
    line, column = index.position("/paths/~1resource5999~1{id}/put/responses/200")
    assert line == 1 and text[column - 1 :].startswith('"200"') and column - 1 > put
    for i in range(0, 6000, 3):
        line, column = index.position(f"/paths/~1resource{i}~1{{id}}/get/parameters/4/name")
        start = text.index(f'"/resource{i}/{{id}}"')
        assert line == 1 and text[column - 1 :].startswith('"name":"p4"') and column > start
