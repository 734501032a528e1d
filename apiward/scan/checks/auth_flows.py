"""Where an API logs users in, signs them up and resets passwords, found from the spec.

No check lives here. The login operation is the configured identities' own
(their login body names the fields and a real user), else a POST whose path or
operationId says login and whose body takes a name and a password. Sign-up and
password reset are found by their words and body fields the same way. The
throwaway accounts the checks register get random names, so two scans of one
API never collide, and never touch a configured identity.
"""

from __future__ import annotations

import fnmatch
import re
import secrets
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from apiward.core import Operation
from apiward.scan.context import ScanContext
from apiward.scan.http import Exchange
from apiward.scan.identity import Identity
from apiward.scan.values import body_schema
from apiward.scan.values_schema import fits

__all__ = [
    "Account",
    "LoginForm",
    "is_email_field",
    "is_name_field",
    "is_password_field",
    "known_email",
    "login_form",
    "looks_failed",
    "register",
    "reset_operation",
    "signup_operation",
    "strong_password",
]

_LOGIN_WORDS = re.compile(r"log-?in|sign-?in|authenticate|session|(^|[/_.-])token", re.I)
_SIGNUP_WORDS = re.compile(
    r"regist|sign-?up|enrol|create-?(user|account|profile)|new-?(user|account)", re.I
)
_RESET_WORDS = re.compile(
    r"forg[eo]t|(reset|recover|lost)[-_/]?(password|pass|pwd)|(password|pass|pwd)[-_/]?(reset|recover)",
    re.I,
)
_CONFIRM_WORDS = re.compile(r"confirm|verify|complete|change|update|set-?new|finish", re.I)
_TOKEN_FIELD = re.compile(r"token|jwt|session", re.I)
_FAILED = frozenset({"fail", "failed", "failure", "error", "false", "denied", "invalid"})
_NAME = re.compile(r"(user(name)?|login|e?mail(address)?|handle|nick(name)?|accountname)$")
_PASSWORD = re.compile(r"passw(or)?d|passphrase|^pwd$|^pass$")


def _flat(name: str) -> str:
    return re.sub(r"[^a-z0-9]", "", name.lower())


def is_password_field(name: str) -> bool:
    return bool(_PASSWORD.search(_flat(name)))


def is_name_field(name: str) -> bool:
    return not is_password_field(name) and bool(_NAME.search(_flat(name)))


def is_email_field(name: str) -> bool:
    return is_name_field(name) and "mail" in _flat(name)


def strong_password() -> str:
    """A password any policy takes: long, with every character class."""
    return f"Aw9!{secrets.token_urlsafe(12)}-Zq7"


def _words(op: Operation) -> str:
    return f"{op.path} {op.operation_id or ''} {op.summary}"


def _properties(ctx: ScanContext, op: Operation) -> dict[str, Any]:
    found = body_schema(ctx.doc, op)
    props = found[1].get("properties") if found else None
    return props if isinstance(props, dict) else {}


def _is_form(ctx: ScanContext, op: Operation) -> bool:
    found = body_schema(ctx.doc, op)
    return found is not None and "form-urlencoded" in found[0]


async def _post(ctx: ScanContext, op: Operation, fields: dict[str, Any], *, form: bool) -> Exchange:
    if form:
        return await ctx.send(
            op.method, op.path, ctx.anonymous, operation=op, credentials=False,
            content=urlencode({k: str(v) for k, v in fields.items()}),
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        )  # fmt: skip
    return await ctx.send(
        op.method, op.path, ctx.anonymous, operation=op, json_body=fields, credentials=False
    )


def looks_failed(answer: Exchange) -> bool:
    """A 2xx whose JSON says it failed (``{"status": "fail"}``, ``{"error": ...}``)."""
    data = answer.json()
    if not isinstance(data, dict):
        return False
    if data.get("error") or data.get("errors") or data.get("success") is False:
        return True
    return any(str(data.get(k, "")).lower() in _FAILED for k in ("status", "result", "success"))


def _token_at(answer: Exchange, where: str) -> bool:
    """Whether the answer has a value where a login flow reads its token (``body.a.b``...)."""
    kind, _, rest = where.partition(".")
    if kind == "header":
        return bool(answer.headers.get(rest))
    if kind == "cookie":
        return any(
            h.split(";", 1)[0].partition("=")[0].strip() == rest and "=" in h
            for h in answer.headers.get_list("set-cookie")
        )
    node: Any = answer.json()
    for part in rest.split("."):
        node = node.get(part) if isinstance(node, dict) else None
    return isinstance(node, str) and bool(node)


# ---------------------------------------------------------------------- login


@dataclass(slots=True)
class LoginForm:
    """How to log in: the operation, a template body and which fields carry what."""

    op: Operation
    fields: dict[str, Any]
    name_key: str
    password_keys: list[str]
    form: bool = False
    known: Identity | None = None  # the configured identity the template body is from

    @property
    def known_name(self) -> str | None:
        value = self.fields.get(self.name_key) if self.known else None
        return value if isinstance(value, str) and value else None

    def logged_in(self, answer: Exchange) -> bool:
        """The answer is a successful login: 2xx with the token where the identity finds it
        (or, for a login found by its name, a cookie or a token-like field)."""
        if not answer.ok or looks_failed(answer):
            return False
        flow = self.known.login_flow if self.known is not None else None
        if flow is not None:
            return _token_at(answer, flow.token)
        data = answer.json()
        return bool(answer.headers.get("set-cookie")) or (
            isinstance(data, dict) and any(_TOKEN_FIELD.search(k) for k in data)
        )

    async def attempt(self, ctx: ScanContext, name: str, password: str) -> Exchange:
        """One login attempt, as nobody, with ``name`` and ``password`` in the template."""
        body = dict(self.fields)
        body[self.name_key] = name
        for key in self.password_keys:
            body[key] = password
        return await _post(ctx, self.op, body, form=self.form)


def login_form(ctx: ScanContext) -> LoginForm | None:
    """The login operation: the identities' own when it has a name and a password, else by name."""
    for ident in [*ctx.users(), *ctx.admins()]:
        flow = ident.login_flow
        fields = (flow.body or flow.form) if flow is not None else None
        if flow is None or not fields:
            continue
        method, _, path = flow.operation.partition(" ")
        op = ctx.doc.operation(method, path)
        names = [k for k in fields if is_name_field(k) and isinstance(fields[k], str)]
        passwords = [k for k in fields if is_password_field(k)]
        if op is None or "{" in op.path or not ctx.allowed(op) or not names or not passwords:
            continue
        return LoginForm(op, dict(fields), names[0], passwords, flow.form is not None, ident)
    for op in ctx.operations("POST"):
        if not _LOGIN_WORDS.search(_words(op)) or _SIGNUP_WORDS.search(_words(op)):
            continue
        if _RESET_WORDS.search(_words(op)) or "{" in op.path or op.requires_auth:
            continue
        props = _properties(ctx, op)
        names = [k for k in props if is_name_field(k)]
        passwords = [k for k in props if is_password_field(k)]
        if names and len(passwords) == 1:
            found = body_schema(ctx.doc, op)
            body = ctx.values.request_value(found[1]) if found else {}
            if isinstance(body, dict):
                return LoginForm(op, body, names[0], passwords, _is_form(ctx, op))
    return None


# ---------------------------------------------------------------------- sign-up


@dataclass(slots=True)
class Account:
    """A throwaway account a check registered."""

    answer: Exchange
    body: dict[str, Any] = field(default_factory=dict)
    password: str = ""

    @property
    def created(self) -> bool:
        return self.answer.ok and not looks_failed(self.answer)

    def login_name(self, form: LoginForm) -> str | None:
        """The value to put in the login form's name field: its email or its username."""
        email = next((v for k, v in self.body.items() if is_email_field(k)), None)
        name = next(
            (v for k, v in self.body.items() if is_name_field(k) and not is_email_field(k)), None
        )
        if form.name_key in self.body and isinstance(self.body[form.name_key], str):
            return str(self.body[form.name_key])
        value = email if is_email_field(form.name_key) else (name or email)
        return value if isinstance(value, str) else None


def signup_operation(ctx: ScanContext) -> Operation | None:
    """A POST anyone may call whose words say sign-up and whose body takes a name and password."""
    for op in ctx.operations("POST"):
        if not _SIGNUP_WORDS.search(_words(op)) or "{" in op.path:
            continue
        if not ctx.is_public_operation(op) or ctx.is_admin_operation(op):
            continue
        props = _properties(ctx, op)
        if any(is_name_field(k) for k in props) and any(is_password_field(k) for k in props):
            return op
    return None


def _fresh_names(props: dict[str, Any], body: dict[str, Any]) -> None:
    """Random usernames and emails, where the schema takes them: sign-ups never collide."""
    tag = secrets.token_hex(4)
    for key, schema in props.items():
        if key not in body or not is_name_field(key):
            continue
        value = f"apiward.{tag}@example.com" if is_email_field(key) else f"apiward_{tag}"
        if fits(value, schema):
            body[key] = value


async def register(ctx: ScanContext, op: Operation, password: str) -> Account | None:
    """Sign up a throwaway account with ``password``. None when no body can be built."""
    found = body_schema(ctx.doc, op)
    body = ctx.values.request_value(found[1]) if found else None
    if not isinstance(body, dict):
        return None
    props = found[1].get("properties", {}) if found else {}
    _fresh_names(props if isinstance(props, dict) else {}, body)
    for key in list(body):
        if is_password_field(key):
            body[key] = password
    answer = await _post(ctx, op, body, form=_is_form(ctx, op))
    return Account(answer, body, password)


# ---------------------------------------------------------------------- reset


def _callable(ctx: ScanContext, op: Operation) -> bool:
    """Not excluded by the config. ``ctx.allowed`` also refuses anything named "reset", which
    for a password reset request is wrong: asking for a reset resets no state."""
    for pattern in ctx.options.exclude:
        method, _, path = pattern.partition(" ")
        if method in ("*", op.method) and fnmatch.fnmatchcase(op.path, path):
            return False
    return True


def reset_operation(ctx: ScanContext) -> tuple[Operation, str] | None:
    """The request half of a password reset, and the body field naming the account."""
    for op in ctx.doc.operations:
        text = _words(op)
        if op.method not in ("POST", "PUT") or not _callable(ctx, op):
            continue
        if not _RESET_WORDS.search(text) or _CONFIRM_WORDS.search(f"{op.path} {op.operation_id}"):
            continue
        if "{" in op.path or not ctx.is_public_operation(op):
            continue
        props = _properties(ctx, op)
        if any(is_password_field(k) or "token" in _flat(k) for k in props):
            continue  # the confirmation half
        key = next((k for k in props if is_email_field(k)), None) or next(
            (k for k in props if is_name_field(k)), None
        )
        if key is not None:
            return op, key
    return None


def known_email(ctx: ScanContext, ident: Identity) -> str | None:
    """``ident`` 's email: from its login body, else from its own profile as the crawl saw it."""
    flow = ident.login_flow
    for key, value in ((flow.body or flow.form or {}) if flow else {}).items():
        if is_email_field(key) and isinstance(value, str) and "@" in value:
            return value
    for (op_key, who), answer in sorted(ctx.seen.items(), key=lambda kv: len(kv[0][0])):
        data = answer.json() if who == ident.name and answer.ok and "{" not in op_key else None
        if isinstance(data, dict):
            for key, value in data.items():
                if is_email_field(key) and isinstance(value, str) and "@" in value:
                    return value
    return None
