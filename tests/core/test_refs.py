"""$ref: broken, recursive, across files and over loopback HTTP."""

from __future__ import annotations

import http.server
import threading
from collections.abc import Iterator
from functools import partial
from pathlib import Path

import pytest

from apiward.core import Document, Limits, Location, load, loads
from apiward.errors import RefError, SourceError


def write(root: Path, name: str, text: str) -> Path:
    path = root / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, "utf-8")
    return path


def spec(body: str) -> str:
    return "openapi: 3.0.3\ninfo: {title: t, version: '1'}\n" + body


# -- broken references ------------------------------------------------------


def test_a_broken_parameter_ref_names_file_pointer_and_line() -> None:
    doc = loads(
        spec(
            "paths:\n  /a:\n    get:\n      parameters:\n"
            "        - $ref: '#/components/parameters/Missing'\n"
            "      responses: {'200': {description: ok}}\n"
        ),
        uri="api.yaml",
    )
    with pytest.raises(RefError) as info:
        _ = doc.operations
    err = info.value
    assert err.file == "api.yaml"
    assert err.pointer == "/paths/~1a/get/parameters/0/$ref"
    assert (err.line, err.column) == (7, 11)
    assert "'#/components/parameters/Missing' does not resolve" in str(err)
    assert str(err).startswith("api.yaml:7:11 (at /paths/~1a/get/parameters/0/$ref)")


def test_a_broken_path_item_ref_fails_the_model() -> None:
    doc = loads(spec("paths:\n  /a: {$ref: '#/components/pathItems/Nope'}\n"), uri="p.yaml")
    with pytest.raises(RefError, match="does not resolve") as info:
        _ = doc.operations
    assert info.value.line == 4


def test_broken_schema_refs_are_recorded_not_raised() -> None:
    doc = loads(
        spec(
            "paths:\n  /a:\n    post:\n      requestBody:\n        content:\n"
            "          application/json: {schema: {$ref: '#/components/schemas/Gone'}}\n"
            "      responses: {'200': {description: ok}}\n"
            "components:\n  schemas:\n    User:\n      properties:\n"
            "        pet: {$ref: '#/components/schemas/Pet'}\n"
        ),
        uri="s.yaml",
    )
    (op,) = doc.operations
    assert op.request_body is not None
    assert op.request_body.content["application/json"].schema is None
    broken = {(loc.pointer, ref) for loc, ref in doc.schema_index.broken_refs}
    assert broken == {
        (
            "/paths/~1a/post/requestBody/content/application~1json/schema",
            "#/components/schemas/Gone",
        ),
        ("/components/schemas/User/properties/pet", "#/components/schemas/Pet"),
    }
    loc = doc.locate(next(iter(doc.schema_index.broken_refs))[0])
    assert loc.line is not None


def test_a_ref_loop_is_an_error_when_followed() -> None:
    doc = loads(
        spec(
            "paths:\n  /a:\n    get:\n      parameters: [{$ref: '#/components/parameters/A'}]\n"
            "      responses: {'200': {description: ok}}\n"
            "components:\n  parameters:\n    A: {$ref: '#/components/parameters/B'}\n"
            "    B: {$ref: '#/components/parameters/A'}\n"
        )
    )
    with pytest.raises(RefError, match="loops back"):
        _ = doc.operations


def test_a_schema_ref_loop_is_harmless() -> None:
    doc = loads(
        spec(
            "paths:\n  /a:\n    get:\n      responses:\n        '200':\n"
            "          description: ok\n          content:\n"
            "            application/json: {schema: {$ref: '#/components/schemas/X'}}\n"
            "components:\n  schemas:\n    X: {$ref: '#/components/schemas/Y'}\n"
            "    Y: {$ref: '#/components/schemas/X'}\n"
        )
    )
    (op,) = doc.operations
    assert op.responses["200"].content["application/json"].schema is None
    assert len(doc.schema_index) == 0


# -- recursion ----------------------------------------------------------------

RECURSIVE = spec(
    "paths:\n  /tree:\n    post:\n      requestBody:\n        content:\n"
    "          application/json: {schema: {$ref: '#/components/schemas/Node'}}\n"
    "      responses:\n        '200':\n          description: ok\n          content:\n"
    "            application/json: {schema: {$ref: '#/components/schemas/A'}}\n"
    "components:\n  schemas:\n"
    "    Node:\n      type: object\n      properties:\n"
    "        children: {type: array, items: {$ref: '#/components/schemas/Node'}}\n"
    "        parent: {$ref: '#/components/schemas/Node'}\n"
    "    A: {type: object, properties: {b: {$ref: '#/components/schemas/B'}}}\n"
    "    B: {type: object, properties: {a: {$ref: '#/components/schemas/A'}}}\n"
)


def test_recursive_schemas_are_indexed_once() -> None:
    doc = loads(RECURSIVE)
    (op,) = doc.operations
    assert op.request_body is not None
    node = op.request_body.content["application/json"].schema
    assert node is not None and node.location.pointer == "/components/schemas/Node"
    names = sorted(n.name for n in doc.schema_index)
    # a schema that is only a $ref is an edge of the index, not a node
    assert names == ["A", "B", "Node", "Node.children"]
    by_name = {n.name: n for n in doc.schema_index}
    idx = doc.schema_index
    assert idx.in_request(by_name["Node.children"]) and not idx.in_response(by_name["Node"])
    assert idx.in_response(by_name["B"]) and not idx.in_request(by_name["B"])
    assert [u.key for u in doc.usages(by_name["B"].location)] == ["POST /tree"]
    parent = Location(doc.uri, "/components/schemas/Node/properties/parent")
    assert doc.resolve(doc.node(parent), parent)[0] is doc.raw["components"]["schemas"]["Node"]


# -- several files --------------------------------------------------------------


def split_spec(root: Path) -> Path:
    """api/main.yaml -> api/pets.yaml (a path item) -> ../common/pet.yaml (schemas)."""
    write(
        root,
        "common/pet.yaml",
        "Pet:\n  type: object\n  properties:\n    name: {type: string}\n"
        "    tag: {$ref: '#/Tag'}\n"
        "Tag:\n  type: string\n",
    )
    write(
        root,
        "api/pets.yaml",
        "get:\n  parameters:\n    - {name: limit, in: query, schema: {type: integer}}\n"
        "  responses:\n    '200':\n      description: ok\n      content:\n"
        "        application/json:\n          schema: {$ref: '../common/pet.yaml#/Pet'}\n",
    )
    return write(
        root,
        "api/main.yaml",
        spec(
            "paths:\n  /pets: {$ref: 'pets.yaml'}\n"
            "  /owners:\n    post:\n      requestBody:\n        content:\n"
            "          application/json: {schema: {$ref: '#/components/schemas/Owner'}}\n"
            "      responses: {'204': {description: ok}}\n"
            "components:\n  schemas:\n    Owner:\n      properties:\n"
            "        pet: {$ref: '../common/pet.yaml#/Pet'}\n"
        ),
    )


def check_split(doc: Document, pets: str, common: str) -> None:
    get = doc.operation("GET", "/pets")
    assert get is not None
    assert get.location == Location(pets, "/get")
    assert [p.name for p in get.parameters] == ["limit"]
    schema = get.responses["200"].content["application/json"].schema
    assert schema is not None and schema.location == Location(common, "/Pet")
    assert doc.locate(schema.location).line == 1
    assert doc.locate(Location(common, "/Pet/properties/tag")).line == 5
    by_name = {n.name: n for n in doc.schema_index}
    assert {"Pet", "Pet.name", "Tag", "Owner"} <= set(by_name)
    pet = by_name["Pet"]
    assert pet.location.file == common
    assert doc.schema_index.in_response(pet) and doc.schema_index.in_request(pet)
    assert [u.key for u in doc.usages(pet.location)] == ["POST /owners", "GET /pets"]
    assert doc.schema_index.broken_refs == []


def test_a_spec_split_across_files(tmp_path: Path) -> None:
    main = split_spec(tmp_path)
    doc = load(str(main))
    check_split(doc, str(tmp_path / "api/pets.yaml"), str(tmp_path / "common/pet.yaml"))
    assert set(doc.sources) == {
        str(main),
        str(tmp_path / "api/pets.yaml"),
        str(tmp_path / "common/pet.yaml"),
    }


def test_a_missing_referenced_file(tmp_path: Path) -> None:
    main = write(tmp_path, "main.yaml", spec("paths:\n  /a: {$ref: 'nope.yaml'}\n"))
    with pytest.raises(RefError) as info:
        _ = load(str(main)).operations
    assert info.value.file == str(main) and info.value.line == 4
    assert f"{tmp_path / 'nope.yaml'}: cannot read" in str(info.value)
    main = write(
        tmp_path,
        "main.yaml",
        spec("paths: {}\ncomponents:\n  schemas:\n    X: {$ref: 'gone.yaml#/X'}\n"),
    )
    broken = load(str(main)).schema_index.broken_refs
    assert broken == [(Location(str(main), "/components/schemas/X"), "gone.yaml#/X")]


def test_an_unparsable_referenced_file_is_a_ref_error_naming_both_files(tmp_path: Path) -> None:
    write(tmp_path, "bad.yaml", "get: [\n")
    main = write(tmp_path, "main.yaml", spec("paths:\n  /a: {$ref: 'bad.yaml'}\n"))
    with pytest.raises(RefError) as info:
        _ = load(str(main)).operations
    assert "bad.yaml:2" in str(info.value) and "invalid YAML" in str(info.value)


def test_the_number_of_referenced_files_is_limited(tmp_path: Path) -> None:
    for i in range(3):
        write(tmp_path, f"s{i}.yaml", "type: string\n")
    refs = "".join(f"    S{i}: {{$ref: 's{i}.yaml'}}\n" for i in range(3))
    main = write(tmp_path, "main.yaml", spec("paths: {}\ncomponents:\n  schemas:\n" + refs))
    doc = load(str(main), limits=Limits(max_ref_files=2))
    assert len(doc.schema_index.broken_refs) == 2  # the main file counts as one


def test_a_ref_to_a_non_loopback_url_is_never_fetched(tmp_path: Path) -> None:
    main = write(
        tmp_path,
        "main.yaml",
        spec("paths: {}\ncomponents:\n  schemas:\n    X: {$ref: 'http://example.com/x.yaml#/X'}\n"),
    )
    refs = [ref for _, ref in load(str(main)).schema_index.broken_refs]
    assert refs == ["http://example.com/x.yaml#/X"]
    write(tmp_path, "main.yaml", spec("paths:\n  /a: {$ref: 'https://example.com/item.yaml'}\n"))
    with pytest.raises(RefError, match="only loopback URLs are allowed"):
        _ = load(str(main)).operations


# -- loopback HTTP ----------------------------------------------------------------


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass

    def do_GET(self) -> None:
        if self.path.startswith("/redirect"):
            self.send_response(302)
            self.send_header("Location", "http://example.com/spec.yaml")
            self.end_headers()
            return
        super().do_GET()


@pytest.fixture
def server(tmp_path: Path) -> Iterator[str]:
    httpd = http.server.ThreadingHTTPServer(
        ("127.0.0.1", 0), partial(_Quiet, directory=str(tmp_path))
    )
    thread = threading.Thread(target=httpd.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}"
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join()


def test_loading_from_a_loopback_url_with_relative_refs(tmp_path: Path, server: str) -> None:
    split_spec(tmp_path)
    doc = load(f"{server}/api/main.yaml")
    assert doc.uri == f"{server}/api/main.yaml"
    check_split(doc, f"{server}/api/pets.yaml", f"{server}/common/pet.yaml")


def test_a_missing_url_and_a_too_large_response(tmp_path: Path, server: str) -> None:
    with pytest.raises(SourceError, match="HTTP 404"):
        load(f"{server}/nope.yaml")
    write(tmp_path, "big.yaml", spec("paths: {}\n") + "x: " + "a" * 500 + "\n")
    with pytest.raises(SourceError, match="over the limit of 100 bytes"):
        load(f"{server}/big.yaml", limits=Limits(max_bytes=100))


def test_a_redirect_off_loopback_is_refused(server: str) -> None:
    with pytest.raises(SourceError, match=r"refusing a redirect to 'http://example\.com"):
        load(f"{server}/redirect")


@pytest.mark.parametrize(
    "url",
    [
        "http://example.com/openapi.yaml",
        "https://10.0.0.1/openapi.yaml",
        "http://127.0.0.1.example.com/openapi.yaml",
        "http://localhost.example.com/openapi.yaml",
    ],
)
def test_non_loopback_urls_are_refused(url: str) -> None:
    with pytest.raises(SourceError, match="only loopback URLs are allowed"):
        load(url)
