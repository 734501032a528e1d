from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from apiward.audit.rule import Hit, rule
from apiward.audit.schema_groups import (
    Labels,
    grouped,
    listing,
    plural,
    resolved,
    root,
    words,
    write_only,
)
from apiward.core import Document, Location, Operation, Owasp, SchemaNode, Severity, schema_types

# word sequences a property name ends with (trailing digits dropped: cvv2 -> cvv)
_SECRETS = frozenset(
    {
        ("password",),
        ("passwd",),
        ("passphrase",),
        ("pwd",),
        ("password", "hash"),
        ("password", "digest"),
        ("password", "salt"),
        ("ssn",),
        ("social", "security"),
        ("social", "security", "number"),
        ("social", "security", "no"),
        ("card", "number"),
        ("card", "no"),
        ("card", "num"),
        ("cc", "number"),
        ("credit", "card"),
        ("pan",),
        ("primary", "account", "number"),
        ("cvv",),
        ("cvc",),
        ("security", "code"),
        ("card", "verification", "code"),
        ("card", "verification", "value"),
        ("pin",),
        ("pin", "code"),
        ("pin", "number"),
    }
)
# credentials an API hands out on purpose from its login/token/key endpoints
_ISSUED = frozenset(
    {
        ("token",),
        ("secret",),
        ("api", "key"),
        ("apikey",),
        ("private", "key"),
        ("secret", "key"),
        ("signing", "key"),
        ("encryption", "key"),
        ("access", "key"),
    }
)
_LONGEST = max(len(p) for p in _SECRETS | _ISSUED)
# `<word>Token` is a credential only for these words: AWS `ClientToken` (idempotency),
# `attributionToken` or `taskToken` are handles, not keys to an account
_CREDENTIAL_TOKENS = frozenset(
    {"access", "refresh", "id", "auth", "authentication", "authorization", "bearer", "session"}
    | {"api", "app", "oauth", "jwt", "personal", "private", "secret", "security", "user"}
    | {"login", "reset", "verification", "confirmation", "invite", "invitation", "magic"}
    | {"registration", "clone", "download", "upload", "read", "write", "service", "bot"}
    | {"webhook", "device", "mfa", "otp", "temp", "temporary"}
)
# tokens that are not credentials: paging cursors, anti-CSRF, idempotency keys
_NOT_CREDENTIAL = frozenset(
    {"page", "next", "prev", "previous", "continuation", "pagination", "cursor", "sync"}
    | {"csrf", "xsrf", "idempotency", "masked", "redacted", "obfuscated", "hint"}
)
_CHEAP = re.compile(r"pass|pwd|ssn|social|card|pan|cv[vc]|security|pin|token|secret|key", re.I)
_ISSUER = re.compile(
    r"token|login|log-in|signin|sign-in|session|oauth|authenticat|authoriz|credential|secret|"
    r"api[-_]?key|keys",
    re.I,
)
_VALUE_TYPES = frozenset({"string", "integer", "number"})


def classify(name: str) -> str | None:
    """``"secret"`` (never belongs in a response), ``"issued"`` (a credential) or None."""
    w = words(name)
    while w and w[-1].isdigit():
        w = w[:-1]
    if not w or w[0] in ("has", "is") or _NOT_CREDENTIAL.intersection(w):
        return None
    for size in range(min(len(w), _LONGEST), 0, -1):
        tail = w[-size:]
        if tail in _SECRETS:
            return "secret"
        if tail == ("token",) and size < len(w) and w[-2] not in _CREDENTIAL_TOKENS:
            return None
        if tail in _ISSUED:
            return "issued"
    return None


def issues_credentials(op: Operation) -> bool:
    """Whether an operation looks like a login, token or key endpoint (by path, id, summary)."""
    return _ISSUER.search(f"{op.path} {op.operation_id or ''} {op.summary}") is not None


@rule(
    severity=Severity.HIGH,
    category=Owasp.API3,
    cwe=213,
    remediation="Remove the property from response schemas (use separate request and "
    "response schemas, or mark it `writeOnly: true`) and make sure the API never "
    "serializes it; return masked values (last 4 digits) where users need a hint.",
)
def sensitive_data_in_response(doc: Document) -> Iterator[Hit]:
    """Response schema exposes secrets (passwords, card data, keys, tokens).

    Checks the property names of every schema reachable from a response for
    secrets: passwords and their hashes, social security numbers, card numbers
    (`card_number`, `pan`), CVV/CVC, PINs, API and private keys, secrets and
    tokens; and any string with `format: password`. Names are compared word by
    word (`passwordHash`, `new_password`, `cvv2`), so `password_changed_at`,
    `has_password`, `token_type` or `next_page_token` do not match, and a
    `<word>Token` counts only if the word names a credential (`accessToken`,
    `refresh_token`, `sessionToken`; not AWS's idempotency `ClientToken`); booleans,
    objects and arrays are skipped, as are `writeOnly` properties (they are
    never returned). Request-only schemas are not looked at: sending a password
    is normal, returning one is a leak.

    Credentials an API hands out on purpose (tokens, secrets, API and private
    keys) are expected in the responses of login, token, session, OAuth,
    credential and key endpoints: they are not reported when every operation
    using the schema has such a path, operationId or summary. Passwords, card
    data and SSNs are reported everywhere. One finding per root schema names
    the properties concerned.
    """
    index = doc.schema_index
    names = Labels(doc)
    by_key = {op.key: op for op in doc.operations}
    issuer_roots: dict[Location, bool] = {}

    def only_issuers(node: SchemaNode) -> bool:
        top = root(node).location
        if top not in issuer_roots:
            usages = doc.usages(top)
            issuer_roots[top] = bool(usages) and all(
                u.key in by_key and issues_credentials(by_key[u.key]) for u in usages
            )
        return issuer_roots[top]

    found = []
    for node in index:
        props = node.data.get("properties")
        if not isinstance(props, dict) or not index.in_response(node) or write_only(node):
            continue
        for key, sub in props.items():
            if not isinstance(key, str) or not isinstance(sub, dict):
                continue
            kind = classify(key) if _CHEAP.search(key) else None
            if kind is None and sub.get("format") != "password":
                continue
            target = _target(doc, node, key, sub)
            if target.get("writeOnly") is True or sub.get("writeOnly") is True:
                continue
            types = schema_types(target) - {"null"}
            if types and not types & _VALUE_TYPES:
                continue
            if kind == "issued" and only_issuers(node):
                continue
            found.append((node, names.child(node, key)))
    yield from grouped(
        found,
        lambda labels: (
            f"{plural(len(labels), 'sensitive property', 'sensitive properties')} "
            f"in a response: {listing(labels)}"
        ),
    )


def _target(doc: Document, node: SchemaNode, key: str, sub: dict[str, Any]) -> dict[str, Any]:
    if "$ref" not in sub:
        return sub
    loc = Location(node.location.file, f"{node.location.pointer}/properties/{key}")
    return resolved(doc, sub, loc)
