from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from apiward.audit.rule import Hit, rule
from apiward.audit.rules._auth import words
from apiward.core import Document, Location, Owasp, Severity
from apiward.core import pointer as jp
from apiward.errors import RefError

_URL_WORDS = frozenset({"url", "urls", "uri", "uris", "href", "webhook", "webhooks"})
_URL_PREFIXES = frozenset({"callback", "redirect"})
_URL_FORMATS = frozenset({"uri", "url", "iri"})


@rule(
    severity=Severity.LOW,
    category=Owasp.API7,
    cwe=918,
    remediation="If the server fetches or redirects to this URL, allow-list schemes, hosts "
    "and ports, resolve the host and refuse internal addresses, and do not follow redirects.",
)
def user_supplied_url(doc: Document) -> Iterator[Hit]:
    """Request takes a URL from the caller: review it for server-side request forgery.

    Checks parameters and request body properties named like a URL
    (`...Url`, `..._uri`, `href`, `webhook`, or starting with `callback` or
    `redirect`) or whose schema has `format: uri`/`url`/`iri`. Webhooks, file
    imports, previews and custom SSO make the server fetch what the caller
    names, which can reach cloud metadata endpoints and internal services; a
    redirect target is an open redirect. Read-only properties are skipped.

    Equivalent: Spectral owasp:api7:2023-concerning-url-parameter.
    """
    seen: set[Location] = set()
    for op in doc.operations:
        for param in op.parameters:
            if param.location in seen:
                continue
            seen.add(param.location)
            fmt = param.schema.data.get("format") if param.schema is not None else None
            if _url_name(param.name) or _url_format(fmt):
                yield Hit(
                    param.location,
                    f"{param.param_in} parameter {param.name} takes a URL the server may use",
                )
    index = doc.schema_index
    for node in index:
        props = node.data.get("properties")
        if not isinstance(props, dict) or not index.in_request(node):
            continue
        for name, value in props.items():
            loc = Location(node.location.file, jp.join(node.location.pointer, "properties", name))
            sub = _resolved(doc, value, loc)
            if sub.get("readOnly") is True:
                continue
            if _url_name(str(name)) or _url_format(sub.get("format")):
                label = f"{node.name}.{name}" if node.name else str(name)
                yield Hit(loc, f"request property {label} takes a URL the server may use")


def _url_name(name: str) -> bool:
    parts = words(name)
    if not parts or parts[-1] in ("id", "ids"):
        return False
    return parts[0] in _URL_PREFIXES or not _URL_WORDS.isdisjoint(parts)


def _url_format(fmt: Any) -> bool:
    return isinstance(fmt, str) and fmt.lower() in _URL_FORMATS


def _resolved(doc: Document, value: Any, loc: Location) -> dict[str, Any]:
    try:
        sub, _ = doc.resolve(value, loc)
    except RefError:
        return {}
    return sub if isinstance(sub, dict) else {}
