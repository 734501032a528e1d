"""The demo's OpenAPI document: served, loadable, carrying the flaws the manifest lists."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

import apiward.demo
from apiward.core import Document, Router, load
from apiward.core.pointer import resolve
from apiward.demo import Entry, Manifest, load_manifest
from tests.demo.targets import Target

SPEC_FILE = Path(apiward.demo.__file__).parent / "openapi.yaml"
MANIFEST = load_manifest()


@pytest.fixture(scope="module")
def doc() -> Document:
    return load(str(SPEC_FILE))


def test_served_spec_loads_with_core_in_both_modes(
    targets: dict[str, Target], doc: Document
) -> None:
    for target in targets.values():
        served = load(target.url + "/openapi.yaml")
        as_json = load(target.url + "/openapi.json")
        assert served.raw == doc.raw == as_json.raw
        assert [op.key for op in served.operations] == [op.key for op in doc.operations]
        assert served.version == "3.1.0"


def test_operations_named_by_the_manifest_exist(doc: Document) -> None:
    keys = {op.key for op in doc.operations}
    for entry in MANIFEST.entries:
        named = [entry.operation] if entry.operation else []
        missing = [op for op in (*named, *entry.also) if op not in keys]
        assert missing == [], f"{entry.id} names operations the spec lacks"
        assert (entry.operation is not None) == (entry.scope == "operation"), entry.id


def test_runtime_proofs_target_their_operation(doc: Document) -> None:
    router = Router(doc.operations)
    for entry in MANIFEST.runtime:
        request = entry.proof.request
        assert request is not None, entry.id
        match = router.match(request.method, request.path)
        if entry.scope == "operation":
            assert match is not None and match.operation.key == entry.operation, entry.id
        elif entry.scope == "undocumented":
            assert match is None, f"{entry.id}: {request.method} {request.path} is in the spec"


def _responses_lack(code: str) -> Callable[[Document, Any], bool]:
    return lambda doc, node: not {code, f"{code[0]}XX", "default"} & set(node)


def _scheme_uses(doc: Document) -> set[str]:
    return {name for op in doc.operations for req in op.effective_security for name in req.schemes}


# what each spec entry's pointer must show: the flaw is really written there
SPEC_CHECKS: dict[str, Callable[[Document, Any], bool]] = {
    "spec-operation-without-security": lambda doc, node: (
        "security" not in node and "security" not in doc.raw
    ),
    "spec-http-server-url": lambda doc, node: node.startswith("http://"),
    "spec-unbounded-string": lambda doc, node: (
        node.get("type") == "string"
        and not {"maxLength", "enum", "pattern", "format", "const"} & set(node)
    ),
    "spec-unbounded-integer": lambda doc, node: node["type"] == "integer" and "maximum" not in node,
    "spec-unbounded-array": lambda doc, node: node["type"] == "array" and "maxItems" not in node,
    "spec-no-rate-limit-headers": lambda doc, node: (
        not any(
            name.lower().startswith(("ratelimit", "x-ratelimit", "x-rate-limit"))
            for op in doc.operations
            for response in op.responses.values()
            for name in response.headers
        )
    ),
    "spec-numeric-account-id": lambda doc, node: node["type"] == "integer",
    "spec-numeric-user-id": lambda doc, node: node["type"] == "integer",
    "spec-missing-401": _responses_lack("401"),
    "spec-missing-429": _responses_lack("429"),
    "spec-missing-500": _responses_lack("500"),
    "spec-request-additional-properties": lambda doc, node: (
        node.get("additionalProperties", True) is not False
    ),
    "spec-response-password-hash": lambda doc, node: node["type"] == "string",
    "spec-response-ssn": lambda doc, node: node["type"] == "string",
    "spec-admin-same-security": lambda doc, node: (
        node == doc.raw["paths"]["/users/me"]["get"]["security"]
    ),
    "spec-ssrf-url-avatar": lambda doc, node: node["format"] == "uri",
    "spec-ssrf-url-partner-feed": lambda doc, node: node["format"] == "uri",
    "spec-api-key-in-query": lambda doc, node: node["type"] == "apiKey" and node["in"] == "query",
    "spec-deprecated-operation": lambda doc, node: node is True,
    "spec-x-internal-operation": lambda doc, node: node is True,
    "spec-basic-auth-scheme": lambda doc, node: node["scheme"] == "basic",
    "spec-unused-security-scheme": lambda doc, node: "partnerOAuth" not in _scheme_uses(doc),
    "spec-oauth2-empty-scopes": lambda doc, node: node == {},
}


def test_every_spec_entry_has_a_check() -> None:
    assert sorted({e.id for e in MANIFEST.spec} ^ SPEC_CHECKS.keys()) == []


@pytest.mark.parametrize("entry", MANIFEST.spec, ids=lambda e: e.id)
def test_spec_flaw_is_written_where_the_manifest_says(entry: Entry, doc: Document) -> None:
    assert entry.proof.pointer is not None
    node = resolve(doc.raw, entry.proof.pointer)
    assert SPEC_CHECKS[entry.id](doc, node)


def test_flawed_user_schema_is_in_the_profile_response(doc: Document) -> None:
    [me] = [op for op in doc.operations if op.key == "GET /users/me"]
    schema = me.responses["200"].content["application/json"].schema
    assert schema is not None and schema.location.pointer == "/components/schemas/User"


def test_meta_paths_are_served_but_not_described(manifest: Manifest, doc: Document) -> None:
    assert not {op.path for op in doc.operations} & set(manifest.meta_paths)
