"""Swagger 2.0 documents are converted to OpenAPI 3.0, and findings point at what was written."""

from __future__ import annotations

import copy
from typing import Any

import pytest
import yaml

from apiward.core import Document, Location, from_dict, loads
from apiward.core import pointer as jp
from apiward.core.swagger2 import convert
from tests.core.fuzzspecs import SWAGGER

TEXT = yaml.safe_dump(SWAGGER, sort_keys=False)


@pytest.fixture(scope="module")
def doc() -> Document:
    return loads(TEXT, uri="petstore.yaml")


def swagger(**top: Any) -> dict[str, Any]:
    data: dict[str, Any] = {"swagger": "2.0", "info": {"title": "t", "version": "1"}, "paths": {}}
    data.update(top)
    return data


def test_version_and_info(doc: Document) -> None:
    assert doc.version == "2.0"
    assert doc.raw["openapi"] == "3.0.3" and doc.raw["info"] == SWAGGER["info"]


def test_servers_keep_the_http_scheme(doc: Document) -> None:
    assert [s.url for s in doc.servers] == [
        "http://api.example.com/v1",
        "https://api.example.com/v1",
    ]
    photo = doc.operation("POST", "/pets/{id}/photo")
    assert photo is not None and [s.url for s in photo.servers] == ["http://api.example.com/v1"]
    assert doc.locate(doc.servers[0].location).pointer == "/schemes/0"


@pytest.mark.parametrize(
    ("top", "urls"),
    [
        ({"host": "h.example", "basePath": "/b"}, ["//h.example/b"]),
        (
            {"host": "h.example", "schemes": ["HTTPS", "ws"]},
            ["https://h.example", "ws://h.example"],
        ),
        ({"basePath": "/api"}, ["/api"]),
        ({}, []),
    ],
)
def test_servers_without_schemes_or_host(top: dict[str, Any], urls: list[str]) -> None:
    assert [s.url for s in from_dict(swagger(**top)).servers] == urls


def test_definitions_become_component_schemas_with_refs_rewritten(doc: Document) -> None:
    pet = doc.raw["components"]["schemas"]["Pet"]
    assert pet["discriminator"] == {"propertyName": "kind"}
    owner = pet["properties"]["owner"]
    assert owner["$ref"] == "#/components/schemas/Pet" and owner["nullable"] is True
    assert "definitions" not in doc.raw


def test_parameters_and_request_bodies(doc: Document) -> None:
    get = doc.operation("GET", "/pets")
    assert get is not None
    assert [(p.name, p.param_in) for p in get.parameters] == [
        ("X-Trace", "header"),
        ("limit", "query"),
        ("tags", "query"),
    ]
    tags = get.parameter("tags", "query")
    assert tags is not None and tags.schema is not None
    assert tags.schema.data == {"type": "array", "items": {"type": "string"}}
    assert (tags.raw["style"], tags.raw["explode"], tags.raw["x-param-ext"]) == ("form", True, 1)
    limit = get.parameter("limit", "query")
    assert limit is not None and limit.location.pointer == "/components/parameters/Limit"
    post = doc.operation("POST", "/pets")
    assert post is not None and post.request_body is not None
    body = post.request_body
    assert body.required and list(body.content) == ["application/json"]
    assert body.location.pointer == "/components/requestBodies/Body"
    schema = body.content["application/json"].schema
    assert schema is not None and schema.location.pointer == "/components/schemas/Pet"


def test_form_data_becomes_a_multipart_request_body(doc: Document) -> None:
    op = doc.operation("POST", "/pets/{id}/photo")
    assert op is not None and op.request_body is not None
    assert [p.name for p in op.parameters] == ["id"]
    media = op.request_body.content["multipart/form-data"]
    assert media.schema is not None
    assert media.schema.data == {
        "type": "object",
        "properties": {"file": {"type": "string", "format": "binary"}, "note": {"type": "string"}},
        "required": ["file"],
    }
    assert op.request_body.required
    note = Location(doc.uri, jp.join(media.location.pointer, "schema", "properties", "note"))
    assert doc.locate(note).pointer == "/parameters/Note"


def test_form_data_without_files_is_url_encoded() -> None:
    op = {"parameters": [{"name": "a", "in": "formData", "type": "string"}], "responses": {}}
    doc = from_dict(swagger(paths={"/f": {"post": op}}))
    body = doc.raw["paths"]["/f"]["post"]["requestBody"]
    assert list(body["content"]) == ["application/x-www-form-urlencoded"]


def test_responses_headers_and_examples(doc: Document) -> None:
    get = doc.operation("GET", "/pets")
    assert get is not None
    ok = get.responses["200"]
    assert list(ok.content) == ["application/json", "application/xml"]
    header = ok.headers["X-Rate"]
    assert header.schema is not None and header.schema.data == {"type": "integer"}
    raw = doc.raw["paths"]["/pets"]["get"]["responses"]["200"]
    assert raw["content"]["application/json"]["example"] == [{"name": "rex"}]
    # one schema as written, shared by both media types through a $ref
    assert raw["content"]["application/xml"]["schema"] == {
        "$ref": "#/paths/~1pets/get/responses/200/content/application~1json/schema"
    }
    xml, json_ = ok.content["application/xml"].schema, ok.content["application/json"].schema
    assert xml is not None and json_ is not None and xml.location == json_.location
    content = "/paths/~1pets/get/responses/200/content"
    nodes = [n.location.pointer for n in doc.schema_index if n.location.pointer.startswith(content)]
    assert nodes == [content + "/application~1json/schema"]
    not_found = get.responses["404"]
    assert not_found.location.pointer == "/components/responses/NotFound"
    file = doc.operation("POST", "/pets/{id}/photo")
    assert file is not None
    schema = file.responses["200"].content["application/json"].schema
    assert schema is not None and schema.data == {"type": "string", "format": "binary"}


def test_security_schemes(doc: Document) -> None:
    schemes = doc.security_schemes
    assert (schemes["basic"].type, schemes["basic"].scheme) == ("http", "basic")
    key = schemes["key"]
    assert (key.type, key.param_in, key.param_name) == ("apiKey", "header", "X-Key")
    flows = {name: list(schemes[name].flows) for name in ("implicit", "password", "application")}
    assert flows == {
        "implicit": ["implicit"],
        "password": ["password"],
        "application": ["clientCredentials"],
    }
    code = schemes["accessCode"].flows["authorizationCode"]
    assert code == {
        "authorizationUrl": "https://a/auth",
        "tokenUrl": "https://a/token",
        "scopes": {"w": "write"},
    }
    assert schemes["application"].flows["clientCredentials"]["scopes"] == {}
    assert schemes["accessCode"].raw["x-scheme-ext"] == 1
    token = Location(doc.uri, "/components/securitySchemes/accessCode/flows/authorizationCode")
    assert doc.locate(Location(doc.uri, token.pointer + "/tokenUrl")).pointer == (
        "/securityDefinitions/accessCode/tokenUrl"
    )


def test_security_requirements_are_kept(doc: Document) -> None:
    assert [r.schemes for r in doc.security] == [{"key": ()}]
    post, get = doc.operation("POST", "/pets"), doc.operation("GET", "/pets")
    assert post is not None and post.security == [] and not post.requires_auth
    assert get is not None and get.security is None and get.requires_auth


def test_extensions_are_kept(doc: Document) -> None:
    assert doc.raw["x-root"] is True
    assert doc.raw["paths"]["/pets"]["x-path-ext"] == "p"
    get = doc.operation("GET", "/pets")
    assert get is not None and get.extensions == {"x-op-ext": "o"}


@pytest.mark.parametrize(
    ("converted", "original", "written"),
    [
        ("/components/schemas/Pet/properties/owner", "/definitions/Pet/properties/owner", "owner:"),
        (
            "/paths/~1pets/post/requestBody",
            "/paths/~1pets/post/parameters/0",
            "- $ref: '#/parameters/Body'",
        ),
        (
            "/components/requestBodies/Body/content/application~1json/schema",
            "/parameters/Body/schema",
            "schema:",
        ),
        (
            "/paths/~1pets/get/parameters/1/schema/items",
            "/paths/~1pets/get/parameters/1/items",
            "items:",
        ),
        (
            "/paths/~1pets/get/responses/200/content/application~1json/schema/items",
            "/paths/~1pets/get/responses/200/schema/items",
            "items:",
        ),
        (
            "/paths/~1pets/get/responses/200/headers/X-Rate/schema",
            "/paths/~1pets/get/responses/200/headers/X-Rate",
            "X-Rate:",
        ),
        (
            "/components/responses/NotFound/content/application~1xml",
            "/responses/NotFound",
            "NotFound:",
        ),
        (
            "/components/securitySchemes/basic/scheme",
            "/securityDefinitions/basic/type",
            "type: basic",
        ),
        ("/servers/1/url", "/schemes/1/url", "- https"),
        ("/openapi", "/swagger", "swagger:"),
        ("/info/title", "/info/title", "title:"),
    ],
)
def test_origin_points_at_what_was_written(
    doc: Document, converted: str, original: str, written: str
) -> None:
    loc = doc.locate(Location(doc.uri, converted))
    assert loc.pointer == original
    assert loc.line is not None and loc.column is not None
    line = TEXT.splitlines()[loc.line - 1]
    assert line[loc.column - 1 :].startswith(written.lstrip("- ")) or line.strip().startswith(
        written
    ), (line, loc)


def test_the_input_is_not_modified() -> None:
    data = copy.deepcopy(SWAGGER)
    convert(data, "x.json")
    assert data == SWAGGER


def test_deep_and_shared_schemas_convert_without_recursion() -> None:
    deep: dict[str, Any] = {"type": "string"}
    for _ in range(3000):
        deep = {"type": "object", "properties": {"p": deep}}
    shared = {"$ref": "#/definitions/Deep"}
    converted, _ = convert(
        swagger(definitions={"Deep": deep, "A": {"allOf": [shared, shared]}}), "x.json"
    )
    a = converted["components"]["schemas"]["A"]
    assert a["allOf"][0] is a["allOf"][1]
    assert a["allOf"][0] == {"$ref": "#/components/schemas/Deep"}


def test_odd_security_definitions_are_kept_as_written() -> None:
    doc = from_dict(swagger(securityDefinitions={"o": {"type": "oauth2"}, "c": {"type": "custom"}}))
    assert {n: s.type for n, s in doc.security_schemes.items()} == {"o": "oauth2", "c": "custom"}
