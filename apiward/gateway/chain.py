"""The gateway's extension point: a policy is one class with one job, registered by name.

The engine (:mod:`apiward.gateway.middleware`) canonicalises and routes each request,
then hands an :class:`Exchange` to the API's policies in ``order``. A policy overrides
only the hooks it needs (the engine calls a hook only on the policies that override it,
so an unused hook costs nothing per request):

- :meth:`Policy.on_request`: return a :class:`~apiward.gateway.policy.Refusal` to answer
  the request here (the first refusal wins and is audited), or ``None`` to go on. It
  may set ``exchange.principal``, replace ``exchange.receive`` (a checked body) or add
  ``exchange.response_headers``;
- :meth:`Policy.on_response`: rewrite the response headers (security headers, CORS);
- :meth:`Policy.wants_body` / :meth:`Policy.on_body`: see the whole response body
  (response filtering); the engine buffers it only when a policy asks for it.

Adding a policy is adding one file under ``apiward/gateway/policies/``::

    @register
    class DenyFridays(Policy):
        \"\"\"Refuse every request on Fridays.\"\"\"

        name = "deny-fridays"
        order = 15

        @classmethod
        def from_setup(cls, setup: ApiSetup) -> DenyFridays | None:
            return cls() if setup.options.get("deny-fridays") else None

        async def on_request(self, ex: Exchange) -> Refusal | None:
            return Refusal(403, self.name, "friday") if is_friday() else None
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, MutableMapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar, TypeVar

from apiward.core import Document, Match, Registry
from apiward.gateway.auth_common import ANONYMOUS, Principal
from apiward.gateway.policy import Refusal

if TYPE_CHECKING:
    from apiward.config.gateway import ApiSection

__all__ = [
    "POLICIES",
    "ApiSetup",
    "Exchange",
    "Headers",
    "Policy",
    "register",
]

Headers = list[tuple[bytes, bytes]]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]


@dataclass(slots=True)
class Exchange:
    """One request on its way through the gateway, and what the audit record needs."""

    scope: MutableMapping[str, Any]
    headers: Headers
    method: str
    path: str  # canonical, percent-encoded as received
    client: str  # the client IP, through trusted proxies only
    receive: Receive
    api: str = ""
    match: Match | None = None
    allowed_methods: frozenset[str] | None = None  # set when the method did not match
    principal: Principal = ANONYMOUS
    response_headers: Headers = field(default_factory=list)
    # filled in for the audit record
    operation: str | None = None
    identity: str | None = None
    decision: str = "allow"
    policy: str | None = None
    reason: str | None = None
    status: int = 0
    request_bytes: int = 0
    response_bytes: int = 0

    @property
    def operation_key(self) -> str | None:
        return self.match.operation.key if self.match is not None else None


@dataclass(frozen=True, slots=True)
class ApiSetup:
    """What a policy may build itself from: the API's document and its config section.

    ``section`` is the API's typed ``gateway.apis[]`` entry (None when the engine is
    configured in code, as ASGI middleware); ``services`` holds what several policies
    share and the gateway builds once (authenticators, the limiter, the key store).
    """

    name: str
    doc: Document
    section: ApiSection | None = None
    services: Mapping[str, Any] = field(default_factory=dict)


class Policy:
    """A unit of the gateway's chain; subclasses set ``name`` and ``order``."""

    name: ClassVar[str] = ""
    order: ClassVar[int] = 100

    @classmethod
    def from_setup(cls, setup: ApiSetup) -> Policy | None:
        """The policy the API's config asks for, or ``None`` when it is not turned on."""
        return None

    async def on_request(self, ex: Exchange) -> Refusal | None:
        return None

    def on_response(self, ex: Exchange, status: int, headers: Headers) -> Headers:
        return headers

    def wants_body(self, ex: Exchange, status: int, headers: Headers) -> bool:
        return False

    def on_body(
        self, ex: Exchange, status: int, headers: Headers, body: bytes
    ) -> tuple[Headers, bytes] | Refusal:
        return headers, body

    def overrides(self, hook: str) -> bool:
        return getattr(type(self), hook) is not getattr(Policy, hook)


POLICIES: Registry[type[Policy]] = Registry("gateway policy")

P = TypeVar("P", bound=type[Policy])


def register(cls: P) -> P:
    """Class decorator: add ``cls`` to :data:`POLICIES` under its ``name``."""
    if not cls.name:
        raise ValueError(f"{cls.__qualname__} has no name")
    POLICIES.register(cls.name, cls)
    return cls


def ordered(policies: Sequence[Policy]) -> list[Policy]:
    return sorted(policies, key=lambda p: p.order)
