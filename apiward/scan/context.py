"""What a check works with: the spec, the identities, the pool, and a way to call the API.

:meth:`ScanContext.call` turns an operation into a concrete, valid request for
an identity: path parameters from objects that identity owns (or values the
check gives), required query and header parameters and a body generated from
the schemas. :meth:`ScanContext.send` sends anything, as an identity. Both keep
the budget, refresh a login on 401 and honour exclusions; :meth:`report`
records an issue at once.
"""

from __future__ import annotations

import asyncio
import fnmatch
import re
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote, urlsplit

from apiward.core import Document, Operation, Router
from apiward.scan.canary import Canary
from apiward.scan.check import Check, Issue
from apiward.scan.http import Exchange, ScanClient, no_answer
from apiward.scan.identity import ANONYMOUS, Identity
from apiward.scan.links import LinkFollower
from apiward.scan.options import ScanOptions
from apiward.scan.resources import Resource, ResourcePool, kind_of_param
from apiward.scan.values import ValueGenerator, body_schema, inline

__all__ = ["UNSET", "ScanContext", "Sensitivity"]

UNSET: Any = object()
_ADMIN_WORDS = re.compile(
    r"(^|[/_.-])(admin|administrator|internal|manage|management|staff|ops|superuser|sudo|root)([/_.-]|$)",
    re.I,
)
_RESET_WORDS = re.compile(
    r"(reset|purge|wipe|truncate|flush|drop|destroy|nuke|factory|seed|clear)", re.I
)
_IDENTITY_FIELDS = re.compile(
    r"(e-?mail|user_?name|login|password|passwd|secret|token|role|admin|permission|scope|group"
    r"|owner|tenant|phone|mfa|otp)",
    re.I,
)
_PASSWORD_WORDS = re.compile(r"(password|passwd|pwd|pass|credential|pin)", re.I)
_AUTH_WORDS = re.compile(
    r"(login|log-in|signin|sign-in|logout|signout|token|oauth|password|passwd|register|signup|sign-up|session|auth)",
    re.I,
)


@dataclass(slots=True)
class Sensitivity:
    """Why an operation is handled with care."""

    admin: bool = False
    resets_state: bool = False
    auth_flow: bool = False


@dataclass(slots=True)
class ScanContext:
    """Shared by every check of one scan. Checks use it; the engine builds it."""

    doc: Document
    options: ScanOptions
    client: ScanClient
    identities: list[Identity]
    pool: ResourcePool
    values: ValueGenerator
    canary: Canary | None
    report_issue: Callable[[Check, Issue], None]
    current: Check | None = None
    seen: dict[tuple[str, str], Exchange] = field(default_factory=dict)  # crawl answers
    login_paths: dict[str, str] = field(default_factory=dict)
    links: LinkFollower | None = None
    router: Router | None = None
    _login_lock: asyncio.Lock = field(default_factory=asyncio.Lock)

    # ------------------------------------------------------------------ who
    def identity(self, name: str) -> Identity:
        return next(i for i in self.identities if i.name == name)

    @property
    def anonymous(self) -> Identity:
        return self.identity(ANONYMOUS)

    def users(self) -> list[Identity]:
        """Authenticated identities that are not admins."""
        return [i for i in self.identities if i.authenticated and not i.is_admin]

    def admins(self) -> list[Identity]:
        return [i for i in self.identities if i.authenticated and i.is_admin]

    def authenticated(self) -> list[Identity]:
        return [i for i in self.identities if i.authenticated]

    # ------------------------------------------------------------------ what
    def operations(self, *methods: str) -> list[Operation]:
        """Operations the scan may call (not excluded, and not destructive under ``--safe``)."""
        wanted = {m.upper() for m in methods}
        return [
            op
            for op in self.doc.operations
            if (not wanted or op.method in wanted) and self.allowed(op)
        ]

    def allowed(self, op: Operation) -> bool:
        if _matches(op, self.options.exclude):
            return False
        if self.sensitivity(op).resets_state:
            return False
        return not (self.options.safe and op.method == "DELETE")

    def excluded(self, method: str, path: str) -> bool:
        """Whether a concrete request is ruled out: by ``exclude`` patterns (matched on the
        concrete path and on the operation it maps to), by ``--safe``, or as a state reset."""
        method = method.upper()
        if self.options.safe and method == "DELETE":
            return True
        bare = urlsplit(path).path if "://" in path else path.split("?", 1)[0]
        base = urlsplit(self.options.target).path.rstrip("/")
        if base and bare.startswith(base + "/"):
            bare = bare[len(base) :]
        for pattern in self.options.exclude:
            pmethod, _, ppath = pattern.partition(" ")
            if pmethod in ("*", method) and fnmatch.fnmatchcase(bare, ppath):
                return True
        if self.router is None:
            self.router = Router(self.doc.operations)
        match = self.router.match(method, bare)
        return match is not None and not self.allowed(match.operation)

    def sensitivity(self, op: Operation) -> Sensitivity:
        text = f"{op.path} {op.operation_id or ''}"
        words = _last_words(op)
        return Sensitivity(
            admin=self.is_admin_operation(op),
            # a password reset is an auth flow, not a reset of the API's state
            resets_state=op.method != "GET"
            and bool(_RESET_WORDS.search(words))
            and not _PASSWORD_WORDS.search(f"{op.path} {words}"),
            auth_flow=bool(_AUTH_WORDS.search(text)),
        )

    def is_admin_operation(self, op: Operation) -> bool:
        """Privileged by the config, or by the spec: ``/admin`` paths, admin tags or scopes."""
        if _matches(op, self.options.admin_operations):
            return True
        if _ADMIN_WORDS.search(op.path) or any(_ADMIN_WORDS.search(t) for t in op.tags):
            return True
        scopes = {s for req in op.effective_security for ss in req.schemes.values() for s in ss}
        return any(_ADMIN_WORDS.search(s) for s in scopes)

    def is_public_operation(self, op: Operation) -> bool:
        """Meant for anyone: configured so, or the spec lets anonymous callers in."""
        return _matches(op, self.options.public_operations) or not op.requires_auth

    def is_login_operation(self, op: Operation) -> bool:
        return any(
            i.login_flow is not None and i.login_flow.operation == op.key for i in self.identities
        )

    # ------------------------------------------------------------------ calling
    async def send(
        self,
        method: str,
        path: str,
        identity: Identity | None = None,
        *,
        operation: Operation | None = None,
        params: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
        cookies: dict[str, str] | None = None,
        json_body: Any = UNSET,
        content: bytes | str | None = None,
        timeout: float | None = None,
        credentials: bool = True,
    ) -> Exchange:
        """Send a request as ``identity`` (anonymous by default), retrying once after a re-login.

        A request the config excludes (or ``--safe`` forbids) is not sent: it comes
        back as an exchange without an answer, whatever path the check built.
        """
        ident = identity or self.anonymous
        if self.excluded(method, path):
            return no_answer(
                method, self.client.url(path), (), None, time.perf_counter(),
                "not sent: excluded by the scan's configuration",
            )  # fmt: skip
        for attempt in (0, 1):
            h, c, q = ident.credentials() if credentials else ({}, {}, {})
            h.update(headers or {})
            c.update(cookies or {})
            q.update(params or {})
            kwargs: dict[str, Any] = {} if json_body is UNSET else {"json_body": json_body}
            answer = await self.client.send(
                method, path, params=q, headers=h, cookies=c, content=content,
                identity=ident.name, operation=operation.key if operation else None,
                timeout=timeout, **kwargs,
            )  # fmt: skip
            if answer.status != 401 or attempt or not credentials or not ident.may_relogin():
                return answer
            await self.relogin(ident)
        return answer

    async def relogin(self, ident: Identity) -> None:
        async with self._login_lock:
            if ident.may_relogin() and ident.login_flow is not None:
                await ident.login(self.client, self.login_paths[ident.name], self.client.secrets)

    async def call(
        self,
        op: Operation,
        identity: Identity | None = None,
        *,
        path_params: dict[str, Any] | None = None,
        owner: Identity | None = None,
        query: dict[str, Any] | None = None,
        body: Any = UNSET,
        headers: dict[str, str] | None = None,
        credentials: bool = True,
    ) -> Exchange | None:
        """Call ``op`` with a valid request; None when a path parameter has no value.

        Path parameters come from ``path_params``, else from an object ``owner``
        (default: the caller) owns, else from the spec's examples.
        """
        ident = identity or self.anonymous
        path = self.fill_path(op, path_params or {}, owner or ident)
        if path is None:
            return None
        q, h = self.parameters(op)
        q.update(query or {})
        h.update(headers or {})
        if body is UNSET:
            body = self.body(op)
        return await self.send(
            op.method, path, ident, operation=op, params=q, headers=h, json_body=body,
            credentials=credentials,
        )  # fmt: skip

    def fill_path(self, op: Operation, given: dict[str, Any], owner: Identity) -> str | None:
        path = op.path
        for param in op.parameters:
            if param.param_in != "path":
                continue
            value = given.get(param.name)
            if value is None:
                value = self.path_value(op, param.name, owner)
            if value is None:
                return None
            path = path.replace("{" + param.name + "}", _segment(value))
        return None if "{" in path else path

    def path_value(self, op: Operation, name: str, owner: Identity) -> Any:
        """A value for path parameter ``name`` taken from an object ``owner`` owns."""
        kind = kind_of_param(op, name)
        if kind is not None:
            for res in self.pool.owner_view(kind, owner.name):
                value = self.pool.value(res, name)
                if value is not None:
                    return value
        param = op.parameter(name, "path")
        if param is not None and param.schema is not None:
            schema = inline(self.doc, param.schema)
            if "example" in schema or "examples" in schema or "enum" in schema:
                # the spec's example names a real object; a name hint would invent one
                return self.values.value(schema)
        return None

    def victims(self, op: Operation, name: str, attacker: Identity) -> list[tuple[Resource, Any]]:
        """Objects another ordinary user owns that fit path parameter ``name``, with the value."""
        kind = kind_of_param(op, name)
        if kind is None:
            return []
        out = []
        for res in self.pool.others(kind, attacker.name):
            value = self.pool.value(res, name)
            if value is not None:
                out.append((res, value))
        return out

    def parameters(self, op: Operation) -> tuple[dict[str, Any], dict[str, str]]:
        """Required query and header parameters, with valid values."""
        query: dict[str, Any] = {}
        headers: dict[str, str] = {}
        for param in op.parameters:
            if not param.required or param.param_in not in ("query", "header"):
                continue
            schema = inline(self.doc, param.schema) if param.schema else {"type": "string"}
            value = self.values.value(schema, param.name)
            if param.param_in == "query":
                query[param.name] = value
            else:
                headers[param.name] = str(value)
        return query, headers

    def body(self, op: Operation) -> Any:
        """A valid body for ``op``. Updates (PUT, PATCH) leave out the optional fields that
        log people in or grant rights (email, username, password, role): an update of the
        caller's own profile must not change how the scanner's identities log in."""
        found = body_schema(self.doc, op)
        if found is None:
            return UNSET
        _media, schema = found
        value = self.values.request_value(schema)
        if op.method in ("PUT", "PATCH") and isinstance(value, dict):
            required = set(schema.get("required") or ())
            for name in list(value):
                if name not in required and _IDENTITY_FIELDS.search(name):
                    del value[name]
        return value

    # ------------------------------------------------------------------ findings
    def report(self, issue: Issue) -> None:
        assert self.current is not None, "report() outside a check"
        self.report_issue(self.current, issue)


def _matches(op: Operation, patterns: Iterable[str]) -> bool:
    for pattern in patterns:
        method, _, path = pattern.partition(" ")
        if method in ("*", op.method) and fnmatch.fnmatchcase(op.path, path):
            return True
    return False


def _last_words(op: Operation) -> str:
    literals = [s for s in op.path.split("/") if s and not s.startswith("{")]
    return " ".join(literals[-1:]) + " " + (op.operation_id or "")


def _segment(value: Any) -> str:
    return quote(str(value), safe="")
