"""What the function-level checks share: which operations are privileged, what may be deleted.

No check lives here. :func:`privileged` widens the context's admin test with
the operation's own words and role extensions; :func:`disposable` picks the
one object a destructive probe may delete: the caller's own, never a login.
"""

from __future__ import annotations

import fnmatch
import re

from apiward.core import Operation
from apiward.scan.context import ScanContext
from apiward.scan.identity import Identity
from apiward.scan.resources import Resource

__all__ = ["CREDENTIAL_KEY", "disposable", "excluded", "holds_login", "privileged"]

_PRIVILEGED_TEXT = re.compile(
    r"\b(admins?|administrators?|superusers?|staff|moderators?)(\s+users?)?\s+only\b"
    r"|\bonly\s+(for\s+|by\s+)?(an?\s+)?(admins?|administrators?|superusers?|staff)\b"
    r"|\brequires?\s+(an?\s+)?(admin|administrator|superuser|elevated|privileged)\b"
    r"|\b(admin|administrator|superuser)\s+(role|privileges?|rights|permissions?|access)\b",
    re.I,
)
_ROLE_EXTENSION = re.compile(r"role|permission|privilege|scope|access|auth", re.I)
_ADMIN_VALUE = re.compile(r"admin|superuser|root|staff|sudo", re.I)
#: Field names whose values are (or guard) credentials: never written, never echoed back.
CREDENTIAL_KEY = re.compile(r"pass(word|wd)?|secret|token|api_?key|hash|otp|pin$", re.I)
# kinds that are (or hold) a person's login: deleting one could lock an identity out
_PERSON_KINDS = frozenset(
    {"user", "profile", "member", "customer", "person", "principal", "me", "self", "session",
     "token", "credential", "login", "apikey", "api_key", "key", "identity"}
)  # fmt: skip
_SELF_WORDS = ("me", "self", "current", "mine", "whoami", "profile")


def privileged(ctx: ScanContext, op: Operation) -> bool:
    """The operation is meant for admins: by path, tag, scope, config, text or role extension."""
    if ctx.is_admin_operation(op):
        return True
    text = f"{op.summary} {op.raw.get('description') or ''}"
    if _PRIVILEGED_TEXT.search(text):
        return True
    for key, value in op.extensions.items():
        if _ROLE_EXTENSION.search(key) and _ADMIN_VALUE.search(str(value)):
            return True
    return False


def excluded(ctx: ScanContext, method: str, path: str) -> bool:
    """The config excludes ``method path`` (for requests that no documented operation names)."""
    for pattern in ctx.options.exclude:
        want, _, glob = pattern.partition(" ")
        if want in ("*", method) and fnmatch.fnmatchcase(path, glob):
            return True
    return False


def disposable(ctx: ScanContext, kind: str, ident: Identity) -> Resource | None:
    """An object of ``kind`` that only ``ident`` owns and that holds no login.

    One the scan created comes first, else the last of the caller's own; never a
    user, profile, session or key object, nor one that names the identity.
    """
    if kind in _PERSON_KINDS:
        return None
    mine = [
        r
        for r in ctx.pool.owner_view(kind, ident.name)
        if r.owners - ctx.pool.admins == {ident.name} and not holds_login(r, ident)
    ]
    created = [r for r in mine if r.source.startswith("POST ")]
    chosen = created or mine
    return chosen[-1] if chosen else None


def holds_login(res: Resource, ident: Identity) -> bool:
    """The object is (or names) the identity itself: its user record, its ``/me``."""
    literals = [s for s in res.source.partition(" ")[2].split("/") if s and "{" not in s]
    if literals and literals[-1].lower() in _SELF_WORDS:
        return True
    names = {ident.name.lower()}
    flow = ident.login_flow
    for key, value in ((flow.body or flow.form or {}) if flow else {}).items():
        if isinstance(value, str) and not CREDENTIAL_KEY.search(key):
            names.add(value.lower())
    return any(isinstance(v, str) and v.lower() in names for v in res.fields.values())
