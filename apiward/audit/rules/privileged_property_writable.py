from __future__ import annotations

from collections.abc import Iterator

from apiward.audit.rule import Hit, rule
from apiward.audit.schema_groups import (
    Labels,
    compact,
    grouped,
    listing,
    plural,
    read_only,
    resolved,
)
from apiward.core import Document, Location, Owasp, Severity

# property names (lower case, letters and digits only) that grant rights or value
_PRIVILEGED = frozenset(
    {"role", "roles", "userrole", "userroles", "accesslevel", "permissions", "permission"}
    | {"privileges", "privilege", "admin", "isadmin", "siteadmin", "superuser", "issuperuser"}
    | {"isstaff", "isroot", "balance", "accountbalance", "credits", "ownerid", "tenantid"}
    | {"isverified", "emailverified", "verified", "isapproved", "approved"}
)


@rule(
    severity=Severity.MEDIUM,
    category=Owasp.API3,
    cwe=915,
    remediation="Keep privileged properties out of request schemas (separate create/update "
    "schemas, or `readOnly: true`), bind request bodies to an explicit allow-list, and "
    "let only authorized callers change roles, permissions, ownership or balances.",
)
def privileged_property_writable(doc: Document) -> Iterator[Hit]:
    """Request schema lets clients set privileged properties (mass assignment).

    Checks the properties of every schema reachable from a request for names
    that grant rights or value: `role(s)`, `permissions`, `privileges`,
    `admin`/`is_admin`/`isAdmin`/`site_admin`, `superuser`, `is_staff`,
    `access_level`, `balance`, `credits`, `owner_id`, `tenant_id`, and
    verification flags (`verified`, `email_verified`, `approved`). If the
    server binds the body onto its objects, any caller can promote themselves,
    take over objects or mint value (mass assignment). `readOnly` properties
    are fine: clients do not send them. Response-only and unused schemas are
    not looked at. Some operations set such fields on purpose (an admin
    changing a member's role); then make sure only admins reach them.
    One finding per root schema names the properties concerned.
    """
    index = doc.schema_index
    names = Labels(doc)
    found = []
    for node in index:
        props = node.data.get("properties")
        if not isinstance(props, dict) or not index.in_request(node) or read_only(node):
            continue
        for key, sub in props.items():
            if not isinstance(key, str) or compact(key) not in _PRIVILEGED:
                continue
            if isinstance(sub, dict) and sub.get("readOnly") is True:
                continue
            if isinstance(sub, dict) and "$ref" in sub:
                loc = Location(node.location.file, f"{node.location.pointer}/properties/{key}")
                if resolved(doc, sub, loc).get("readOnly") is True:
                    continue
            found.append((node, names.child(node, key)))
    yield from grouped(
        found,
        lambda labels: (
            f"{plural(len(labels), 'privileged property', 'privileged properties')}"
            f" clients can set: {listing(labels)}"
        ),
    )
