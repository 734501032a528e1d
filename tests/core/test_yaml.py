"""YAML specifics: values as yaml.safe_load gives them, keys as strings, bombs refused."""

from __future__ import annotations

from typing import Any

import pytest
import yaml

from apiward.core import Limits, loads
from apiward.core.source import parse
from apiward.errors import ParseError


def data(text: str, limits: Limits | None = None) -> Any:
    return parse(text, "t.yaml", limits or Limits()).data


SCALARS = """
plain: [yes, no, on, off, true, null, ~, '', 0x1f, 0o17, 017, 1_000, 190:20:30, 1.5e3, .inf,
        -.5, 12, "12", '7', !!str 12, !!int "7", !!float '1', !!bool "yes", a b]
text: |
  line one
  line two
folded: >
  a
  b
"""


def test_values_match_yaml_safe_load() -> None:
    assert data(SCALARS) == yaml.safe_load(SCALARS)


def test_keys_stay_strings_and_timestamps_stay_text() -> None:
    got = data("200: a\non: b\n1.5: c\nnull: d\nday: 2024-01-31\nat: 2024-01-31T10:00:00Z\n")
    assert got == {
        "200": "a",
        "on": "b",
        "1.5": "c",
        "null": "d",
        "day": "2024-01-31",
        "at": "2024-01-31T10:00:00Z",
    }


MERGES = """
base: &base {a: 1, b: 2}
more: &more {b: 3, c: 4}
one: {<<: *base, a: 9}
list: {<<: [*base, *more], d: 5}
twice:
  <<: *base
  <<: *more
"""


def test_merge_keys_behave_as_in_pyyaml() -> None:
    assert data(MERGES) == yaml.safe_load(MERGES)


def test_a_bad_merge_value_is_refused() -> None:
    with pytest.raises(ParseError, match="'<<'"):
        data("a: &a 1\nb: {<<: *a}\n")


def test_aliases_are_shared_not_copied() -> None:
    got = data("a: &x {k: [1, 2]}\nb: *x\n")
    assert got["a"] is got["b"]


BOMB = """
a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]
b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]
c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]
d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]
e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]
f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]
g: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f]
h: &h [*g,*g,*g,*g,*g,*g,*g,*g,*g]
i: &i [*h,*h,*h,*h,*h,*h,*h,*h,*h]
"""


def test_a_billion_laughs_bomb_is_refused() -> None:
    with pytest.raises(ParseError, match="alias bomb") as info:
        loads("openapi: 3.0.0\n" + BOMB, uri="bomb.yaml")
    assert info.value.file == "bomb.yaml" and info.value.line is not None


def test_a_bomb_inside_schemas_cannot_reach_the_schema_walk() -> None:
    # Schemas whose subschemas alias each other 9 ways at 8 levels: 43 million nodes
    # once expanded, which is what walking them "as written" would visit.
    levels = ["s0: &s0 {type: string}"] + [
        f"s{i}: &s{i} {{allOf: [{', '.join([f'*s{i - 1}'] * 9)}]}}" for i in range(1, 9)
    ]
    text = (
        "openapi: 3.0.0\npaths:\n  /x:\n    get:\n      responses:\n        '200':\n"
        "          description: d\n          content:\n            application/json:\n"
        "              schema: {$ref: '#/components/schemas/s8'}\n"
        "components:\n  schemas:\n" + "".join(f"    {line}\n" for line in levels)
    )
    with pytest.raises(ParseError, match="alias bomb"):
        loads(text)


def test_moderate_alias_use_loads_and_indexes() -> None:
    text = (
        "openapi: 3.0.0\npaths:\n"
        "  /a:\n    get:\n      responses:\n        '200': &ok\n          description: ok\n"
        "          content: {application/json: {schema: {type: object, properties: "
        "{id: {type: integer}}}}}\n"
        + "".join(f"  /b{i}:\n    get:\n      responses:\n        '200': *ok\n" for i in range(50))
    )
    doc = loads(text)
    assert len(doc.operations) == 51
    assert len(doc.schema_index) == 51 * 2  # each use is a place it is written


def test_the_alias_limits_are_configurable() -> None:
    text = "a: &a [1, 2, 3]\nb: [*a, *a, *a]\n"
    assert data(text)["b"] == [[1, 2, 3]] * 3
    with pytest.raises(ParseError, match="alias bomb"):
        data(text, Limits(max_yaml_aliases=2))
    with pytest.raises(ParseError, match="alias bomb"):
        data(text, Limits(max_alias_expansion=8))


def test_a_recursive_alias_is_refused() -> None:
    with pytest.raises(ParseError, match="recursive"):
        data("a: &a {b: *a}\n")


def test_an_undefined_alias_is_refused() -> None:
    with pytest.raises(ParseError, match="no anchor"):
        data("a: *nowhere\n")


def test_an_alias_can_be_a_key() -> None:
    assert data("k: &k name\nm: {*k : v}\n") == {"k": "name", "m": {"name": "v"}}


@pytest.mark.parametrize("value", ["!!bool maybe", "!!int abc", "!!float q"])
def test_an_explicit_tag_that_does_not_fit_its_value(value: str) -> None:
    with pytest.raises(ParseError, match="is not a valid") as info:
        data(f"a: 1\nb: {value}\n")
    assert (info.value.line, info.value.column) == (2, 4)
