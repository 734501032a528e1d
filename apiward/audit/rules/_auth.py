"""Helpers shared by the authentication and authorization rules. Registers no rule.

Every reader here tolerates odd documents: a value of the wrong type, or a
``$ref`` that does not resolve, is skipped rather than raised, because a rule
must report what it can and never stop the audit.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from apiward.core import Document, Location, Operation, OperationRef, SecurityScheme
from apiward.core import pointer as jp
from apiward.core.model import HTTP_METHODS
from apiward.errors import RefError

__all__ = [
    "READ_METHODS",
    "WRITE_METHODS",
    "Requirement",
    "anonymous_source",
    "declared_scopes",
    "flows",
    "is_auth_endpoint",
    "is_public_infra",
    "literal_segments",
    "operations_using",
    "requirements",
    "words",
]

WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
READ_METHODS = frozenset({"GET", "HEAD"})

# last path segment (words joined) of endpoints that must accept anonymous callers
_AUTH_ENDPOINTS = frozenset(
    {
        "login",
        "logon",
        "signin",
        "signup",
        "register",
        "registration",
        "auth",
        "authenticate",
        "authorize",
        "token",
        "oauthtoken",
        "accesstoken",
        "refresh",
        "refreshtoken",
        "session",
        "sessions",
        "forgotpassword",
        "resetpassword",
        "passwordreset",
        "passwordrecovery",
        "recoverpassword",
        "verifyemail",
    }
)
# later steps of those flows: /password-reset/confirm, /signup/verify
_AUTH_STEPS = frozenset({"confirm", "verify", "complete", "resend", "callback", "challenge"})
# well-known endpoints that are public by design (never with path parameters)
_PUBLIC_INFRA = frozenset(
    {
        "health",
        "healthz",
        "healthcheck",
        "livez",
        "readyz",
        "ping",
        "status",
        "version",
        "openapi",
        "openapijson",
        "openapiyaml",
        "swagger",
        "swaggerjson",
        "swaggeryaml",
        "docs",
        "jwks",
        "jwksjson",
        "openidconfiguration",
        "robotstxt",
        "favicon",
        "faviconico",
    }
)


def words(name: str) -> list[str]:
    """A name's words, lower case: ``redirectURI`` -> ``["redirect", "uri"]``."""
    spaced = re.sub(r"([a-z0-9])([A-Z])", r"\1 \2", name)
    spaced = re.sub(r"([A-Z]+)([A-Z][a-z])", r"\1 \2", spaced)
    return [w.lower() for w in re.split(r"[^A-Za-z0-9]+", spaced) if w]


def literal_segments(path: str) -> list[str]:
    return [s for s in path.split("/") if s and "{" not in s]


def is_auth_endpoint(op: Operation) -> bool:
    """A POST that logs in, registers, issues tokens or resets passwords: anonymous by nature.

    ``/auth/login`` and ``/password-reset/confirm`` are; ``/auth/users`` is not.
    """
    segments = ["".join(words(s)) for s in literal_segments(op.path)]
    if op.method != "POST" or not segments:
        return False
    if segments[-1] in _AUTH_ENDPOINTS:
        return True
    return segments[-1] in _AUTH_STEPS and any(s in _AUTH_ENDPOINTS for s in segments)


def is_public_infra(op: Operation) -> bool:
    """A health check, API description or key set: public by design."""
    segments = literal_segments(op.path)
    if "{" in op.path or not segments:
        return False
    return ".well-known" in segments or "".join(words(segments[-1])) in _PUBLIC_INFRA


def operations_using(doc: Document, scheme: object) -> tuple[OperationRef, ...]:
    """The operations whose effective security names ``scheme``."""
    scheme = str(scheme)  # a YAML scheme name can be an integer; requirement names are strings
    return tuple(
        op.ref for op in doc.operations if any(scheme in r.schemes for r in op.effective_security)
    )


def flows(scheme: SecurityScheme) -> Iterator[tuple[str, dict[str, Any], Location]]:
    """An OAuth2 scheme's flows as ``(name, flow, location)``; nothing for other types."""
    if scheme.type != "oauth2":
        return
    for name, flow in scheme.flows.items():
        if isinstance(flow, dict) and not str(name).startswith("x-"):
            loc = scheme.location
            yield str(name), flow, Location(loc.file, jp.join(loc.pointer, "flows", name))


def declared_scopes(scheme: SecurityScheme) -> set[str]:
    out: set[str] = set()
    for _, flow, _ in flows(scheme):
        scopes = flow.get("scopes")
        if isinstance(scopes, dict):
            out.update(str(s) for s in scopes)
    return out


def anonymous_source(doc: Document, op: Operation, *, only: bool) -> Location | None:
    """Where an operation is declared callable without credentials, or None.

    With ``only``, the operation must accept nothing but anonymous callers;
    otherwise an anonymous ``{}`` alternative next to real ones is enough.
    Operations with no security declared at all are not "declared" anonymous:
    operation-without-security reports them.
    """
    if op.security is None and not doc.security:
        return None
    alternatives = op.effective_security
    anonymous = all(r.is_anonymous for r in alternatives) if only else not op.requires_auth
    if not anonymous:
        return None
    if op.security is not None:
        return op.location
    return Location(doc.uri, "/security")


@dataclass(frozen=True, slots=True)
class Requirement:
    """One security requirement as written: its location, schemes and the operations it governs."""

    location: Location
    schemes: dict[str, list[str]]
    usages: tuple[OperationRef, ...] | None


def requirements(doc: Document) -> Iterator[Requirement]:
    """Every security requirement written: global, operations, webhooks, callbacks."""
    inheriting = tuple(op.ref for op in doc.operations if op.security is None)
    yield from _listed(doc.raw.get("security"), Location(doc.uri, "/security"), inheriting)
    for op in doc.operations:
        if "security" in op.raw:
            loc = Location(op.location.file, jp.join(op.location.pointer, "security"))
            yield from _listed(op.raw["security"], loc, (op.ref,))
        callbacks = op.raw.get("callbacks")
        if isinstance(callbacks, dict):
            cb_loc = Location(op.location.file, jp.join(op.location.pointer, "callbacks"))
            for name, callback in callbacks.items():
                value, loc = _resolve(doc, callback, cb_loc, name)
                if isinstance(value, dict):
                    for expr, item in value.items():
                        yield from _path_item(doc, item, loc, expr)
    webhooks = doc.raw.get("webhooks")
    if isinstance(webhooks, dict):
        for name, item in webhooks.items():
            yield from _path_item(doc, item, Location(doc.uri, "/webhooks"), name)


def _path_item(doc: Document, item: Any, parent: Location, key: str) -> Iterator[Requirement]:
    value, loc = _resolve(doc, item, parent, key)
    if not isinstance(value, dict):
        return
    for method in HTTP_METHODS:
        raw = value.get(method)
        if isinstance(raw, dict) and "security" in raw:
            sec_loc = Location(loc.file, jp.join(loc.pointer, method, "security"))
            yield from _listed(raw["security"], sec_loc, None)


def _listed(
    value: Any, loc: Location, usages: tuple[OperationRef, ...] | None
) -> Iterator[Requirement]:
    if not isinstance(value, list):
        return
    for i, req in enumerate(value):
        if isinstance(req, dict):
            schemes = {
                str(k): [str(s) for s in v] if isinstance(v, list) else [] for k, v in req.items()
            }
            yield Requirement(Location(loc.file, jp.join(loc.pointer, i)), schemes, usages)


def _resolve(doc: Document, value: Any, parent: Location, key: str) -> tuple[Any, Location]:
    loc = Location(parent.file, jp.join(parent.pointer, key))
    try:
        return doc.resolve(value, loc)
    except RefError:
        return None, loc
