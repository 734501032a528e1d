"""Loading documents: every unusable input ends in a typed error naming file and line."""

from __future__ import annotations

import codecs
from pathlib import Path

import pytest

from apiward.core import Limits, load, loads
from apiward.errors import ApiwardError, ParseError, SourceError, SpecError

MINIMAL = "openapi: 3.0.3\ninfo: {title: t, version: '1'}\npaths: {}\n"


def write(tmp_path: Path, name: str, content: str | bytes) -> Path:
    path = tmp_path / name
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(content, str):
        path.write_text(content, "utf-8")
    else:
        path.write_bytes(content)
    return path


def error_of(path: Path, limits: Limits | None = None) -> ApiwardError:
    with pytest.raises(ApiwardError) as info:
        load(str(path), limits=limits)
    return info.value


def test_a_minimal_yaml_and_json_document_load(tmp_path: Path) -> None:
    doc = load(str(write(tmp_path, "a.yaml", MINIMAL)))
    assert doc.version == "3.0.3" and doc.operations == []
    doc = load(str(write(tmp_path, "a.json", '{"openapi": "3.1.0", "paths": {}}')))
    assert doc.is_openapi31


def test_invalid_json_names_file_and_line(tmp_path: Path) -> None:
    path = write(tmp_path, "spec.json", '{\n  "openapi": "3.0.0",\n  "info": ,\n}')
    err = error_of(path)
    assert isinstance(err, ParseError)
    assert (err.file, err.line, err.column) == (str(path), 3, 11)
    assert str(err).startswith(f"{path}:3:11: invalid JSON")


def test_invalid_yaml_names_file_and_line(tmp_path: Path) -> None:
    path = write(tmp_path, "spec.yaml", "openapi: 3.0.0\ninfo:\n  title: [unclosed\npaths: {}\n")
    err = error_of(path)
    assert isinstance(err, ParseError)
    assert err.file == str(path) and err.line == 4
    assert "invalid YAML" in str(err) and f"{path}:4:" in str(err)


def test_text_that_looks_like_json_reports_the_json_error(tmp_path: Path) -> None:
    err = error_of(write(tmp_path, "spec.yaml", '{"openapi": "3.0.0", "info": {]}'))
    assert isinstance(err, ParseError) and "invalid JSON" in str(err)


def test_yaml_flow_style_that_is_not_json_loads() -> None:
    doc = loads("{openapi: 3.0.0, info: {title: t, version: '1'}, paths: {}}")
    assert doc.version == "3.0.0"


def test_not_an_openapi_document(tmp_path: Path) -> None:
    err = error_of(write(tmp_path, "config.yaml", "name: my-service\nreplicas: 3\n"))
    assert isinstance(err, SpecError)
    assert "no top-level 'openapi' or 'swagger'" in str(err)


@pytest.mark.parametrize(
    ("text", "pointer", "message"),
    [
        ("info: {}\nopenapi: 4.0.0\n", "/openapi", "unsupported OpenAPI version '4.0.0'"),
        ("info: {}\nopenapi: 2.0\n", "/openapi", "unsupported OpenAPI version '2.0'"),
        ('info: {}\nswagger: "1.2"\n', "/swagger", "unsupported Swagger version '1.2'"),
    ],
)
def test_unsupported_versions_point_at_the_version_line(
    tmp_path: Path, text: str, pointer: str, message: str
) -> None:
    err = error_of(write(tmp_path, "v.yaml", text))
    assert isinstance(err, SpecError)
    assert message in str(err) and err.pointer == pointer and err.line == 2


@pytest.mark.parametrize(
    ("text", "kind"),
    [("- a\n- b\n", "list"), ("just text\n", "string"), ("42\n", "int"), ("[1]", "list")],
)
def test_a_top_level_that_is_not_a_mapping(tmp_path: Path, text: str, kind: str) -> None:
    err = error_of(write(tmp_path, "spec.yaml", text))
    assert isinstance(err, SpecError)
    assert f"the top level is a {kind}, not a mapping" in str(err)


@pytest.mark.parametrize("text", ["", "\n\n", "# only a comment\n", "---\n", "\ufeff"])
def test_an_empty_file(tmp_path: Path, text: str) -> None:
    err = error_of(write(tmp_path, "empty.yaml", text))
    assert isinstance(err, SpecError) and "the file is empty" in str(err)


def test_a_missing_file_and_a_directory(tmp_path: Path) -> None:
    err = error_of(tmp_path / "nope.yaml")
    assert isinstance(err, SourceError) and "cannot read" in str(err)
    assert isinstance(error_of(tmp_path), SourceError)


def test_a_file_over_the_size_limit(tmp_path: Path) -> None:
    path = write(tmp_path, "big.yaml", MINIMAL + "x-pad: " + "a" * 200 + "\n")
    err = error_of(path, Limits(max_bytes=100))
    assert isinstance(err, SourceError)
    assert "over the limit of 100" in str(err) and err.file == str(path)
    assert load(str(path), limits=Limits(max_bytes=10_000)).version == "3.0.3"


def test_text_over_the_size_limit() -> None:
    with pytest.raises(SourceError, match="over the limit of 50"):
        loads(MINIMAL, limits=Limits(max_bytes=50))
    with pytest.raises(SourceError):  # 30 characters, 60 bytes
        loads("é" * 30, limits=Limits(max_bytes=50))


def test_non_utf8_bytes_name_the_line(tmp_path: Path) -> None:
    err = error_of(write(tmp_path, "latin1.yaml", b"openapi: 3.0.0\ninfo:\n  title: caf\xe9\n"))
    assert isinstance(err, ParseError)
    assert "not UTF-8" in str(err) and "0xe9" in str(err)
    assert (err.line, err.column) == (3, 13)


def test_utf8_and_utf16_byte_order_marks_are_accepted(tmp_path: Path) -> None:
    assert load(str(write(tmp_path, "a.yaml", codecs.BOM_UTF8 + MINIMAL.encode())))
    data = codecs.BOM_UTF16_LE + MINIMAL.encode("utf-16-le")
    assert load(str(write(tmp_path, "b.yaml", data))).version == "3.0.3"


def test_control_characters_are_a_parse_error_with_a_line(tmp_path: Path) -> None:
    err = error_of(write(tmp_path, "c.yaml", "openapi: 3.0.0\ninfo:\n  title: a\x01b\n"))
    assert isinstance(err, ParseError) and err.line == 3


def test_an_integer_over_pythons_digit_limit_is_a_parse_error() -> None:
    with pytest.raises(ParseError):
        loads('{"openapi": "3.0.0", "x": ' + "9" * 5000 + "}", uri="big.json")
    with pytest.raises(ParseError):
        loads("openapi: 3.0.0\nx: " + "9" * 5000 + "\n")


def test_json_nested_10000_levels_is_a_parse_error() -> None:
    text = '{"openapi": "3.0.0", "x": ' + "[" * 10_000 + "]" * 10_000 + "}"
    with pytest.raises(ParseError, match="nested too deeply") as info:
        loads(text, uri="deep.json")
    assert info.value.file == "deep.json"


@pytest.mark.parametrize("style", ["flow", "block"])
def test_yaml_nested_10000_levels_is_a_parse_error(style: str) -> None:
    depth = 10_000
    if style == "flow":
        text = "openapi: 3.0.0\nx: " + "[" * depth + "]" * depth + "\n"
    else:
        text = "openapi: 3.0.0\n" + "".join(" " * i + "a:\n" for i in range(depth))
    with pytest.raises(ParseError, match="nested more than 500 levels deep") as info:
        loads(text, uri="deep.yaml")
    assert info.value.line is not None


def test_the_depth_limit_is_configurable() -> None:
    text = "openapi: 3.0.0\nx: " + "[" * 30 + "]" * 30 + "\n"
    assert loads(text).raw["x"] == [[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]
    with pytest.raises(ParseError, match="nested more than 10 levels"):
        loads(text, limits=Limits(max_depth=10))


def test_yaml_duplicate_keys_are_refused() -> None:
    # Decision: the YAML spec forbids duplicate keys and parsers disagree on which one
    # wins (PyYAML keeps the last, others refuse), so an audit could see another document
    # than the server does. JSON keeps the last one, as every mainstream JSON parser does.
    text = "openapi: 3.0.0\npaths:\n  /a:\n    get: {}\n    get: {}\n"
    with pytest.raises(ParseError, match="duplicate key 'get'") as info:
        loads(text, uri="dup.yaml")
    assert (info.value.file, info.value.line, info.value.column) == ("dup.yaml", 5, 5)
    doc = loads('{"openapi": "3.0.0", "paths": {}, "paths": {"/b": {}}}', uri="dup.json")
    assert doc.raw["paths"] == {"/b": {}}


def test_yaml_keys_that_differ_only_in_type_are_duplicates() -> None:
    with pytest.raises(ParseError, match="duplicate key '200'"):
        loads("openapi: 3.0.0\nx:\n  200: a\n  '200': b\n")


def test_more_than_one_yaml_document_is_refused() -> None:
    with pytest.raises(ParseError, match="more than one YAML document") as info:
        loads(MINIMAL + "---\nopenapi: 3.1.0\n")
    assert info.value.line == 4


def test_custom_yaml_tags_are_refused() -> None:
    with pytest.raises(ParseError, match="unsupported YAML tag '!Ref'") as info:
        loads("openapi: 3.0.0\nx: !Ref Thing\n")
    assert info.value.line == 2
    with pytest.raises(ParseError, match="unsupported YAML tag"):
        loads("openapi: 3.0.0\nx: !!python/object:os.system {}\n")


def test_complex_yaml_keys_are_refused() -> None:
    with pytest.raises(ParseError, match="mapping key must be a plain value"):
        loads("openapi: 3.0.0\n? [a, b]\n: c\n")


def test_from_dict_takes_any_mapping() -> None:
    from apiward.core import from_dict

    cyclic: dict[str, object] = {"openapi": "3.0.0", "paths": {}}
    cyclic["x-self"] = cyclic
    assert from_dict(cyclic).operations == []
