"""body-size-unbounded: a 1 MiB display name on the demo bank, written back afterwards."""

from __future__ import annotations

import httpx

from apiward.core import Document
from tests.scan.conftest import demo_auth, scan_demo

CHECK = "body-size-unbounded"
USERS = {"alice": "Alice-Passw0rd!", "bob": "Bob-Passw0rd!!"}


def _profiles(url: str) -> dict[str, dict[str, object]]:
    out = {}
    for name, password in USERS.items():
        out[name] = httpx.get(f"{url}/users/me", headers=demo_auth(url, name, password)).json()
    return out


def test_fires_on_the_vulnerable_demo_and_restores(demo_doc: Document, vulnerable: str) -> None:
    before = _profiles(vulnerable)
    (finding,) = scan_demo(demo_doc, vulnerable, CHECK).findings
    assert finding.usages[0].key == "PATCH /users/me" and "1024 KiB" in finding.message
    assert finding.confidence == "certain"
    assert _profiles(vulnerable) == before


def test_quiet_on_the_secure_demo(demo_doc: Document, secure: str) -> None:
    assert scan_demo(demo_doc, secure, CHECK).findings == []
