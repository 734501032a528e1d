from __future__ import annotations

from collections.abc import Iterator

from apiward.audit.rule import Hit, rule
from apiward.audit.rules._auth import operations_using
from apiward.core import Document, Owasp, Severity


@rule(
    severity=Severity.HIGH,
    category=Owasp.API2,
    cwe=598,
    remediation="Send the API key in a request header (`in: header`, e.g. `X-API-Key`) "
    "and rotate the keys that have been sent in URLs.",
)
def api_key_in_query(doc: Document) -> Iterator[Hit]:
    """API key is sent in the URL.

    Checks `apiKey` security schemes whose `in` is `query` (or `path`). URLs
    are written to server and proxy access logs, browser history and `Referer`
    headers, so a key in the URL leaks to everyone who can read any of those.
    Reported once per scheme, with the operations that use it.

    Equivalent: Spectral owasp:api2:2023-no-api-keys-in-url.
    """
    for name, scheme in doc.security_schemes.items():
        if scheme.type.lower() == "apikey" and scheme.param_in in ("query", "path"):
            where = "query string" if scheme.param_in == "query" else "URL path"
            yield Hit(
                scheme.location,
                f"security scheme {name} sends the API key {scheme.param_name} in the {where}",
                usages=operations_using(doc, name),
            )
