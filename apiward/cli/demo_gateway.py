"""The last step of ``apiward demo``: the same scan again, through ``apiward gateway``.

The vulnerable bank keeps every planted flaw; the gateway in front of it enforces the
bank's own OpenAPI document (deny by default, validation, response filtering, a login
rate limit). What the scan still finds through it is what a gateway cannot fix from
the spec alone (an object-level check needs the app's data: BOLA stays the app's job).
"""

from __future__ import annotations

import contextlib
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from apiward.config import load_config
from apiward.config.gateway import GatewaySection
from apiward.core import Document
from apiward.demo import Manifest, Settings, demo_file, match_runtime_entries, serve, serve_app
from apiward.gateway.app import Gateway
from apiward.gateway.auth_keys import ApiKeyRecord, ApiKeyStore, save_key_file
from apiward.scan import ScanOptions, ScanResult, scan

__all__ = ["scan_through_gateway"]

# the gateway refuses HMAC keys shorter than the hash (RFC 7518 3.2): the bank signs with a
# strong one here. A gateway cannot make a weak signing key strong; rotating it can.
SIGNING_KEY = "apiward-demo-gateway-signing-key-0123456789"
PEPPER = "apiward-demo-gateway-pepper-0123456789abcdef"
PARTNER_KEY = "pk_live_demo_7f3a9c2e"  # the partner's key in demo/scan.yaml


def gateway_section(upstream: str, work: Path) -> GatewaySection:
    """The gateway config the demo uses (also shown in docs/gateway.md)."""
    keys = work / "keys.json"
    store = ApiKeyStore(PEPPER)
    store.add(ApiKeyRecord("partner", store.hash_key(PARTNER_KEY), name="demo partner"))
    save_key_file(keys, store.records())
    data: dict[str, Any] = {
        "listen": "127.0.0.1:0",
        "admin": {"listen": "127.0.0.1:0"},
        "audit": {"store": f"sqlite:{work / 'audit.db'}", "spool-dir": str(work / "spool")},
        "logs": {"level": "error"},
        "keys": {"file": str(keys), "pepper": PEPPER},
        "apis": [
            {
                "name": "bank",
                "spec": demo_file("openapi.yaml"),
                "upstream": {"targets": [upstream]},
                "auth": {
                    "api-keys-in-query": True,  # the bank's partner key travels there
                    "jwt": {
                        "bearerAuth": {
                            "keys": [{"secret": SIGNING_KEY, "algorithms": ["HS256"]}],
                            "issuer": "apiward-demo",
                            "roles-claim": "role",
                        }
                    },
                },
                # least privilege the spec cannot say: admin operations need the admin role
                "authorization": [
                    {"operations": ["adminListUsers", "adminSetRole"], "roles": ["admin"]}
                ],
                "rate-limits": [
                    {"operations": "login", "requests": 10, "per": "1m", "by": "ip"},
                    {"requests": 3000, "per": "1m"},
                ],
            }
        ],
    }
    return GatewaySection.model_validate(data)


@contextlib.contextmanager
def protected_bank() -> Iterator[str]:
    """The vulnerable bank behind a gateway; yields the gateway's URL."""
    with (
        tempfile.TemporaryDirectory(prefix="apiward-demo-") as tmp,
        serve(settings=Settings(jwt_secret=SIGNING_KEY.encode())) as upstream,
    ):
        gateway = Gateway(gateway_section(upstream, Path(tmp)))
        with serve_app(gateway) as url:
            yield url


def scan_through_gateway(
    console: Console, manifest: Manifest, doc: Document, direct: ScanResult
) -> None:
    """Scan the bank through the gateway and print which planted flaws it blocked."""
    config = demo_file("scan.yaml")
    with (
        protected_bank() as url,
        console.status("scanning the same bank through apiward gateway ..."),
    ):
        options = ScanOptions.from_section(load_config(config).scan, url)
        guarded = scan(doc, options)
    before = {
        m.entry.id: m.finding for m in match_runtime_entries(manifest.runtime, direct.findings)
    }
    after = {
        m.entry.id: m.finding for m in match_runtime_entries(manifest.runtime, guarded.findings)
    }
    found_before = [e for e in manifest.runtime if before.get(e.id)]
    blocked = [e for e in found_before if not after.get(e.id)]
    table = Table(show_header=True, header_style="bold", box=None, pad_edge=False)
    table.add_column("owasp")
    table.add_column("planted vulnerability")
    table.add_column("through the gateway")
    for entry in found_before:
        verdict = "[green]blocked[/]" if entry in blocked else "[yellow]still found[/]"
        table.add_row(entry.category, entry.title, verdict)
    console.print(table)
    console.print(
        f"\nThe gateway blocked [bold]{len(blocked)} of {len(found_before)}[/] flaws the scan "
        "found, from the bank's own OpenAPI document and a few lines of config: routing "
        "(shadow and undocumented endpoints), authentication, roles, validation (mass "
        "assignment, injection payloads), response filtering (data exposure), CORS and rate "
        "limits. What is left needs the app's "
        "own checks (object ownership, business rules)."
    )
