from __future__ import annotations

import re
from collections.abc import Iterator

from apiward.audit.rule import Hit, rule
from apiward.audit.rules._servers import all_servers, host_of
from apiward.core import Document, Owasp, Severity

_IN_DESCRIPTION = re.compile(
    r"local|sandbox|alpha|beta|test|stag|prod|next|dev|qa\b|uat|demo|live|mock|preview|"
    r"canary|integration",
    re.IGNORECASE,
)
_HOST_LABELS = frozenset(
    {
        "localhost",
        "local",
        "sandbox",
        "sbx",
        "alpha",
        "beta",
        "test",
        "testing",
        "stage",
        "staging",
        "stg",
        "prod",
        "production",
        "preprod",
        "next",
        "dev",
        "develop",
        "development",
        "qa",
        "uat",
        "demo",
        "live",
        "mock",
        "preview",
        "canary",
        "int",
        "integration",
    }
)


@rule(
    severity=Severity.INFO,
    category=Owasp.API9,
    cwe=1059,
    remediation='Name the environment in each server\'s `description` (e.g. "Production", '
    '"Staging", "Local development").',
)
def server_environment_undeclared(doc: Document) -> Iterator[Hit]:
    """Server does not say which environment it is.

    Checks every server for an environment named in its `description`
    (production, staging, test, sandbox, development, local, ...) or in its
    host name (`api.staging.example.com`, `localhost`). Unlabelled servers
    lead to test data exposed in production, production data used in tests,
    and forgotten non-production hosts with weaker protection left online.
    Unlike Spectral, development and QA environments count, and so does an
    environment evident from the host name.

    Equivalent: Spectral owasp:api9:2023-inventory-environment.
    """
    for server, usages in all_servers(doc):
        if _IN_DESCRIPTION.search(server.description):
            continue
        labels = set(re.split(r"[.\-]", host_of(server)))
        if labels & _HOST_LABELS:
            continue
        yield Hit(server.location, f"server {server.url} does not name its environment", usages)
