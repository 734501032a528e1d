"""``cors``: cross-origin browser access decided by the gateway, not by the upstream."""

from __future__ import annotations

from apiward.gateway.chain import ApiSetup, Exchange, Headers, Policy, register
from apiward.gateway.cors import CorsPolicy
from apiward.gateway.policy import Refusal

__all__ = ["Cors"]


@register
class Cors(Policy):
    """Answer CORS preflights (204 or 403) and set the CORS response headers by policy.

    On by default from the config file: with no ``allow-origins`` no origin is granted
    and the upstream's own ``Access-Control-*`` headers are removed (a reflected Origin
    with credentials is a classic misconfiguration the gateway must not pass on).

    Preflights are answered before routing and authentication (browsers send them without
    credentials); allowed methods default to those the spec declares for the path. The
    upstream's own ``Access-Control-*`` headers are dropped, ``Vary: Origin`` always set.
    """

    name = "cors"
    order = 20

    def __init__(self, policy: CorsPolicy) -> None:
        self._policy = policy

    @classmethod
    def from_setup(cls, setup: ApiSetup) -> Cors | None:
        section = setup.section
        if section is None:
            return None
        # no origins listed: no cross-origin access, whatever the upstream's headers say
        c = section.cors
        return cls(
            CorsPolicy(
                c.allow_origins,
                c.allow_methods,
                c.allow_headers,
                c.expose_headers,
                c.allow_credentials,
                c.max_age,
            )
        )

    async def on_request(self, ex: Exchange) -> Refusal | None:
        if ex.method != "OPTIONS":
            return None
        answer = self._policy.preflight(ex.method, ex.headers, ex.allowed_methods or ())
        if answer is None:
            return None
        status, headers = answer
        reason = "preflight" if status == 204 else "preflight_refused"
        return Refusal(status, self.name, reason, tuple(headers))

    def on_response(self, ex: Exchange, status: int, headers: Headers) -> Headers:
        if ex.reason == "preflight" and ex.policy == self.name:
            return headers  # the preflight answer already carries its grants
        return self._policy.response_headers(ex.headers, headers)
