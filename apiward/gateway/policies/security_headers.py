"""``security-headers``: the response headers browsers and caches need, unless the app set them."""

from __future__ import annotations

from apiward.gateway.chain import ApiSetup, Exchange, Headers, Policy, register
from apiward.gateway.policy import security_headers

__all__ = ["SecurityHeaders"]


@register
class SecurityHeaders(Policy):
    """Add ``X-Content-Type-Options``, ``Cache-Control: no-store`` (authenticated), framing and CSP.

    The app's own values win. ``Strict-Transport-Security`` is added when ``hsts`` is set
    (only meaningful where TLS is terminated here or in front).
    """

    name = "security-headers"
    order = 90

    def __init__(self, *, hsts_max_age: int | None = None, remove: tuple[str, ...] = ()) -> None:
        self._hsts = (
            (b"strict-transport-security", f"max-age={hsts_max_age}; includeSubDomains".encode())
            if hsts_max_age
            else None
        )
        self._remove = frozenset(n.lower().encode() for n in remove)

    @classmethod
    def from_setup(cls, setup: ApiSetup) -> SecurityHeaders | None:
        section = setup.section
        if section is None:
            return cls()
        sh = section.security_headers
        if not sh.enabled:
            return None
        return cls(hsts_max_age=sh.hsts_max_age, remove=tuple(sh.remove))

    def on_response(self, ex: Exchange, status: int, headers: Headers) -> Headers:
        out = security_headers(
            headers, authenticated=bool(ex.principal.subject), remove=self._remove
        )
        if self._hsts is not None and not any(n.lower() == self._hsts[0] for n, _ in out):
            out.append(self._hsts)
        return out
