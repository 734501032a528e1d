"""A small audit run with every kind of content a reporter must handle."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from apiward.audit import AuditConfig, audit
from apiward.audit.gate import AuditRun, Gate, SpecFailure
from apiward.audit.rule import Hit
from apiward.core import Document, Location, Severity, load
from tests.audit.engine_helpers import make_rule, registered

OK = {"200": {"description": "ok"}}
NASTY = "evil \x1b[31mred\x1b[0m <script>x</script> | *bold* [link](http://x) @someone \u202eoops"


def write_spec(path: Path, n_ops: int = 15) -> Path:
    """``n_ops`` unsecured POSTs sharing one schema, each path also with a secured GET and
    DELETE: the unsecured ones stay a minority, so operation-without-security reports each
    of them instead of one API-wide finding."""
    ref = {"$ref": "#/components/schemas/Name"}
    body = {"content": {"application/json": {"schema": ref}}}
    secured: dict[str, Any] = {"security": [{"key": []}], "responses": OK}
    paths: dict[str, dict[str, dict[str, Any]]] = {
        f"/p{i}": {
            "post": {"requestBody": body, "responses": OK},
            "get": secured,
            "delete": secured,
        }
        for i in range(n_ops)
    }
    paths["/p0"]["post"]["x-apiward-ignore"] = ["operation-without-security"]
    data = {
        "openapi": "3.1.0",
        "info": {"title": "Demo <API>", "version": "1"},
        "paths": paths,
        "components": {
            "schemas": {"Name": {"type": "string"}},
            "securitySchemes": {"key": {"type": "apiKey", "in": "header", "name": "X-Key"}},
        },
    }
    path.write_text(json.dumps(data, indent=2))
    return path


def _nasty(doc: Document) -> Iterator[Hit]:
    yield Hit(Location(doc.uri, "/components/schemas/Name"), NASTY)


def _boom(doc: Document) -> Iterator[Hit]:
    raise RuntimeError("rule bug \x1b[2J")
    yield  # pragma: no cover


@pytest.fixture
def spec_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    return write_spec(tmp_path / "api.json")


@pytest.fixture
def run(spec_path: Path, monkeypatch: pytest.MonkeyPatch) -> AuditRun:
    """One spec of 45 operations: 14 high findings (one ignored), a shared-schema finding
    with 15 usages and a nasty message, a crashed rule; positions known for operations, not
    for schemas."""
    doc = load(str(spec_path))

    def locate(loc: Location) -> Location:
        if loc.pointer.startswith("/paths/"):
            return Location(loc.file, loc.pointer, 10 + int(loc.pointer.split("~1p")[1][:1]), 5)
        return loc

    monkeypatch.setattr(doc, "locate", locate)
    nasty = make_rule("t-nasty", _nasty, severity=Severity.MEDIUM, group="data")
    boom = make_rule("t-boom", _boom)
    with registered(nasty, boom):
        result = audit(
            doc, AuditConfig(only=frozenset({"operation-without-security", "t-nasty", "t-boom"}))
        )
    return AuditRun(
        [result],
        Gate(Severity.HIGH, None),
        failures=[SpecFailure("missing.yaml", "missing.yaml: cannot read: No such file")],
    )
