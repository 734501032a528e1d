"""The manifest loader, and the manifest agreeing with the app's own seed data."""

from __future__ import annotations

from typing import Any

import pytest
import yaml

import apiward.demo
from apiward.core import Owasp
from apiward.demo.db import PARTNER_API_KEY
from apiward.demo.manifest import CATEGORIES, parse_manifest
from apiward.demo.settings import WEAK_JWT_SECRET
from apiward.demo.store import SEED_ACCOUNTS, SEED_USERS
from apiward.errors import SpecError


def _raw() -> dict[str, Any]:
    path = apiward.demo.__file__.replace("__init__.py", "manifest.yaml")
    with open(path) as fh:
        data: dict[str, Any] = yaml.safe_load(fh)
    return data


def test_every_category_has_a_runtime_flaw(manifest: apiward.demo.Manifest) -> None:
    counts = manifest.counts()
    assert list(counts) == list(CATEGORIES)
    assert [c for c, n in counts.items() if n["runtime"] == 0] == []
    assert sum(n["runtime"] + n["spec"] for n in counts.values()) == len(manifest.entries)


def test_entries_are_complete(manifest: apiward.demo.Manifest) -> None:
    for entry in manifest.entries:
        assert entry.title and entry.description and entry.proof.description, entry.id
        assert entry.cwe > 0, entry.id
        if entry.kind == "runtime":
            assert entry.proof.request and entry.proof.vulnerable and entry.proof.secure, entry.id
        else:
            assert entry.proof.pointer and entry.proof.pointer.startswith("/"), entry.id
    assert manifest.entry("api1-bola-read-account").owasp is Owasp.API1
    assert manifest.entry("inj-sqli-search").owasp is None


def test_credentials_match_the_seed(manifest: apiward.demo.Manifest) -> None:
    seeded = [(u.id, u.username, u.password, u.role) for u in SEED_USERS]
    assert [(u.id, u.username, u.password, u.role) for u in manifest.users] == seeded
    for user in manifest.users:
        assert list(user.accounts) == [a[0] for a in SEED_ACCOUNTS if a[1] == user.id]
    assert manifest.partner_api_key == PARTNER_API_KEY
    assert manifest.weak_jwt_secret.encode() == WEAK_JWT_SECRET


def test_duplicate_ids_are_refused() -> None:
    data = _raw()
    data["entries"].append(data["entries"][0])
    with pytest.raises(SpecError, match="duplicate entry ids: api1-bola-read-account"):
        parse_manifest(data)


def test_a_bad_category_names_its_entry() -> None:
    data = _raw()
    data["entries"][2]["category"] = "API11"
    with pytest.raises(SpecError) as info:
        parse_manifest(data, "m.yaml")
    assert info.value.pointer == "/entries/2"
    assert "category must be one of" in str(info.value)


def test_a_missing_field_is_a_spec_error() -> None:
    data = _raw()
    del data["entries"][0]["title"]
    with pytest.raises(SpecError, match="malformed entry"):
        parse_manifest(data)
    with pytest.raises(SpecError, match="expected a mapping"):
        parse_manifest([])
