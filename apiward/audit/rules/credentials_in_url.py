from __future__ import annotations

import itertools
import urllib.parse
from collections.abc import Iterator

from apiward.audit.rule import Hit, rule
from apiward.audit.rules._auth import words
from apiward.audit.rules._servers import all_servers
from apiward.core import Document, Location, Owasp, Parameter, Severity, schema_types

_SECRET_WORDS = frozenset(
    {
        "password",
        "passwd",
        "passphrase",
        "pwd",
        "secret",
        "token",
        "apikey",
        "jwt",
        "credential",
        "credentials",
        "bearer",
        "jsessionid",
        "phpsessid",
    }
)
_SECRET_PAIRS = frozenset({("api", "key"), ("private", "key"), ("session", "id")})
# words after which the name describes a credential instead of carrying one (tokenId, secretName)
_QUALIFIERS = frozenset(
    {
        "id",
        "ids",
        "type",
        "types",
        "name",
        "names",
        "count",
        "hint",
        "policy",
        "length",
        "format",
        "expiry",
        "expires",
        "expiration",
        "status",
        "url",
        "uri",
    }
)
# tokens that are not credentials: pagination cursors and CSRF tokens
_HARMLESS = frozenset(
    {"page", "next", "prev", "previous", "continuation", "cursor", "sync", "csrf", "xsrf"}
)


@rule(
    severity=Severity.HIGH,
    category=Owasp.API2,
    cwe=598,
    remediation="Move credentials to a header (`Authorization`, or a named header for API "
    "keys) or the request body, and rotate the ones that have been sent in URLs.",
)
def credentials_in_url(doc: Document) -> Iterator[Hit]:
    """Credential is sent in the URL.

    Checks path and query parameters whose name says they carry a secret
    (`password`, `secret`, `token`, `access_token`, `api_key`, `apikey`,
    `session_id`, ...) and server URLs with a user name and password in them.
    URLs end up in access logs, proxies, browser history and `Referer`
    headers. Names that describe a credential rather than carry it
    (`tokenId`, `secretName`, `token_type`), pagination tokens, CSRF tokens
    and boolean or numeric parameters are skipped, and so are parameters that
    merely restate a query `apiKey` scheme (reported by api-key-in-query).

    Equivalent: Spectral owasp:api2:2023-no-credentials-in-url.
    """
    scheme_params = {
        (s.param_name, s.param_in)
        for s in doc.security_schemes.values()
        if s.type.lower() == "apikey" and isinstance(s.param_name, str)
    }
    seen: set[Location] = set()
    for op in doc.operations:
        for param in op.parameters:
            if param.location in seen or param.param_in not in ("path", "query"):
                continue
            seen.add(param.location)
            if (param.name, param.param_in) in scheme_params or not _carries_secret(param):
                continue
            yield Hit(
                param.location,
                f"{param.param_in} parameter {param.name} puts a credential in the URL",
            )
    for server, usages in all_servers(doc):
        try:
            password = urllib.parse.urlsplit(server.url).password
        except ValueError:
            continue
        if password:
            yield Hit(server.location, "server URL contains a user name and password", usages)


def _carries_secret(param: Parameter) -> bool:
    parts = words(param.name)
    if not parts or (parts[-1] in _QUALIFIERS and parts[-2:] != ["session", "id"]):
        return False
    if not _HARMLESS.isdisjoint(parts):
        return False
    pairs = set(itertools.pairwise(parts))
    if _SECRET_WORDS.isdisjoint(parts) and _SECRET_PAIRS.isdisjoint(pairs):
        return False
    types = schema_types(param.schema.data) if param.schema is not None else set()
    return not types or not types <= {"boolean", "integer", "number", "null"}
