"""The users a scan acts as, and how each gets its credentials.

An identity carries static credentials (headers, cookies, query parameters)
and optionally a login flow: an operation of the spec, a body, and where the
token is in the answer. :class:`Identity.login` runs the flow; the scan
context runs it again when a request comes back 401. ``anonymous`` is always
there and carries nothing.
"""

from __future__ import annotations

import asyncio
import re
import time
from dataclasses import dataclass, field
from typing import Any

from apiward.config import IdentitySection, LoginSection
from apiward.config.env import expand
from apiward.errors import InputError
from apiward.scan.http import Exchange, ScanClient, Secrets

__all__ = ["ADMIN_ROLES", "ANONYMOUS", "Identity", "LoginFailed", "identities_from_config"]

ANONYMOUS = "anonymous"
ADMIN_ROLES = frozenset({"admin", "administrator", "superuser", "root", "staff", "owner", "ops"})
_RELOGIN_AFTER = 5.0
_LOGIN_TRIES = 3
_MAX_WAIT = 10.0


class LoginFailed(InputError):
    """An identity's login flow did not produce a token."""


@dataclass(slots=True)
class Identity:
    """One user of the API under test. Mutable: a login refreshes its credentials."""

    name: str
    role: str = "user"
    headers: dict[str, str] = field(default_factory=dict)
    cookies: dict[str, str] = field(default_factory=dict)
    query: dict[str, str] = field(default_factory=dict)
    login_flow: LoginSection | None = None
    tenant: str | None = None
    expired_token: str | None = None
    token: str | None = None  # the bearer token, when there is one
    logged_in_at: float = 0.0
    login_path: str | None = None

    @property
    def anonymous(self) -> bool:
        return self.name == ANONYMOUS

    @property
    def is_admin(self) -> bool:
        return self.role.lower() in ADMIN_ROLES

    @property
    def authenticated(self) -> bool:
        return bool(self.headers or self.cookies or self.query or self.login_flow)

    @property
    def secret_values(self) -> dict[str, str]:
        """The credential values, by the environment variable a curl should name instead."""
        base = re.sub(r"[^A-Z0-9]", "_", self.name.upper())
        found: dict[str, str] = {}
        if self.token:
            found[self.token] = f"{base}_TOKEN"
        for place in (self.headers, self.cookies, self.query):
            for key, value in place.items():
                if self.token and self.token in value:
                    continue  # "Bearer <token>": the token's own name shows in its place
                found.setdefault(value, f"{base}_{re.sub(r'[^A-Z0-9]', '_', key.upper())}")
        if self.login_flow is not None:
            for key, value in (self.login_flow.body or self.login_flow.form or {}).items():
                if "pass" in key.lower() and isinstance(value, str):
                    found[value] = f"{base}_PASSWORD"
        return found

    def credentials(self) -> tuple[dict[str, str], dict[str, str], dict[str, str]]:
        """Headers, cookies and query parameters to add to a request as this identity."""
        return dict(self.headers), dict(self.cookies), dict(self.query)

    def may_relogin(self) -> bool:
        return self.login_flow is not None and time.monotonic() - self.logged_in_at > _RELOGIN_AFTER

    async def login(self, client: ScanClient, path: str, secrets: Secrets) -> Exchange:
        """Run the login flow against ``path`` (the login operation's concrete path)."""
        flow = self.login_flow
        assert flow is not None
        method = flow.operation.split(None, 1)[0]
        for value, placeholder in self.secret_values.items():
            secrets.add(value, placeholder)  # the password, before it is sent and logged
        kwargs: dict[str, Any] = {}
        if flow.form is not None:
            kwargs["content"] = "&".join(f"{k}={v}" for k, v in flow.form.items())
            kwargs["headers"] = {"Content-Type": "application/x-www-form-urlencoded"}
        else:
            kwargs["json_body"] = flow.body or {}
        for _ in range(_LOGIN_TRIES):
            answer = await client.send(
                method, path, identity=self.name, operation=flow.operation, **kwargs
            )
            if answer.status not in (429, 503):
                break
            await asyncio.sleep(_retry_after(answer))  # a throttled login waits, then retries
        token = _token(answer, flow.token)
        if token is None:
            raise LoginFailed(
                f"identity {self.name!r}: the login ({flow.operation}) answered {answer.status} "
                f"without a token at {flow.token}"
            )
        self.token = token
        if flow.token.startswith("cookie."):
            self.cookies[flow.token.split(".", 1)[1]] = token
        else:
            self.headers[flow.header] = f"{flow.scheme} {token}".strip()
        self.logged_in_at = time.monotonic()
        for value, placeholder in self.secret_values.items():
            secrets.add(value, placeholder)
        return answer


def _retry_after(answer: Exchange) -> float:
    """Seconds ``Retry-After`` asks for (a number of seconds), capped; 2 when absent."""
    value = answer.headers.get("retry-after", "")
    try:
        return min(max(float(value), 0.5), _MAX_WAIT)
    except ValueError:
        return 2.0


def _token(answer: Exchange, where: str) -> str | None:
    kind, _, rest = where.partition(".")
    if kind == "header":
        value = answer.headers.get(rest)
        if value and value.lower().startswith("bearer "):
            value = value[7:]
        return value or None
    if kind == "cookie":
        for header in answer.headers.get_list("set-cookie"):
            name, _, value = header.split(";", 1)[0].partition("=")
            if name.strip() == rest and value:
                return value.strip()
        return None
    node: Any = answer.json()
    for part in rest.split("."):
        if isinstance(node, dict):
            node = node.get(part)
        elif isinstance(node, list) and part.isdigit() and int(part) < len(node):
            node = node[int(part)]
        else:
            return None
    return node if isinstance(node, str) and node else None


def identities_from_config(sections: dict[str, IdentitySection]) -> list[Identity]:
    """The configured identities (environment variables expanded), then ``anonymous``."""
    found = []
    for name, sec in sections.items():
        if name == ANONYMOUS:
            continue
        where = f"scan.identities.{name}"
        login = sec.login
        if login is not None:
            login = login.model_copy(
                update={
                    "body": expand(login.body, f"{where}.login.body"),
                    "form": expand(login.form, f"{where}.login.form"),
                }
            )
        headers = expand(sec.headers, f"{where}.headers")
        ident = Identity(
            name=name,
            role=sec.role,
            headers=headers,
            cookies=expand(sec.cookies, f"{where}.cookies"),
            query=expand(sec.query, f"{where}.query"),
            login_flow=login,
            tenant=sec.tenant,
            expired_token=expand(sec.expired_token, f"{where}.expired-token"),
        )
        auth = next((v for k, v in headers.items() if k.lower() == "authorization"), "")
        if auth.lower().startswith("bearer "):
            ident.token = auth[7:].strip()
        found.append(ident)
    found.append(Identity(name=ANONYMOUS, role="anonymous"))
    return found
