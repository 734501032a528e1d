from __future__ import annotations

from collections.abc import Iterator

from apiward.audit.rule import Hit, rule
from apiward.core import Document, Operation, Owasp, SecurityRequirement, Severity

Need = dict[str, frozenset[str]]


@rule(
    severity=Severity.MEDIUM,
    category=Owasp.API5,
    cwe=285,
    remediation="Protect admin operations with a scheme or scope that regular callers "
    "do not hold (e.g. an `admin` scope), and enforce it on the server.",
)
def admin_security_not_unique(doc: Document) -> Iterator[Hit]:
    """Admin operation accepts the same credentials as regular operations.

    Checks operations under an `/admin...` path segment (or tagged `admin...`):
    if the credentials one of their security alternatives requires are
    already sufficient for a non-admin operation (same schemes, no extra
    scope), then, as far as the contract says, any regular caller can call the
    admin function. Scopes are compared as sets, and the global security
    counts, so `admin` scope vs `read` scope passes while an admin operation
    inheriting the global API key does not. Anonymous alternatives are left to
    public-write-operation and public-read-operation.

    Equivalent: Spectral owasp:api5:2023-admin-security-unique.
    """
    regular: dict[frozenset[tuple[str, frozenset[str]]], str] = {}
    admins: list[Operation] = []
    for op in doc.operations:
        if _is_admin(op):
            admins.append(op)
            continue
        for req in op.effective_security:
            if not req.is_anonymous:
                regular.setdefault(frozenset(_need(req).items()), op.key)
    for op in admins:
        for req in op.effective_security:
            need = _need(req)
            if not need:
                continue
            other = next((key for held, key in regular.items() if _covers(dict(held), need)), None)
            if other is not None:
                yield Hit(
                    op.location,
                    f"admin operation {op.key} accepts the credentials of {other} "
                    f"({', '.join(sorted(need))})",
                )
                break


def _is_admin(op: Operation) -> bool:
    parts = [s.lower() for s in op.path.split("/")] + [t.lower() for t in op.tags]
    return any(p.startswith("admin") for p in parts)


def _need(req: SecurityRequirement) -> Need:
    return {name: frozenset(scopes) for name, scopes in req.schemes.items()}


def _covers(held: Need, need: Need) -> bool:
    """Whether credentials satisfying ``held`` also satisfy ``need``."""
    return all(name in held and scopes <= held[name] for name, scopes in need.items())
