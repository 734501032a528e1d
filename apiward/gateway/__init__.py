"""``apiward gateway`` (in progress): the security gateway.

:class:`~apiward.gateway.middleware.GatewayMiddleware` already wraps an ASGI app and
enforces, per operation of the spec: canonical paths, routing (404/405: a positive
model), authentication and scopes, rate limits, security headers and the audit log.
Request validation (:mod:`~apiward.gateway.validate`) and response filtering
(:mod:`~apiward.gateway.response_filter`) are built and plug into its ``validator``
hook next; the reverse proxy, the config section and the command follow (issue #4).
The blocks, each usable and tested on its own:

- :mod:`apiward.gateway.canonical`, :mod:`apiward.gateway.headers`: one canonical path
  before routing (ambiguous requests refused), method/URL overrides, framing
  (request smuggling), hop-by-hop and identity headers, the client IP through
  trusted proxies only.
- :mod:`apiward.gateway.auth_jwt`, :mod:`~apiward.gateway.auth_keys`,
  :mod:`~apiward.gateway.auth_introspect`, :mod:`~apiward.gateway.auth_common`:
  JWT (static keys, JWKS, OIDC discovery, a verified-token cache), hashed API keys,
  RFC 7662 introspection, and the spec's security requirements evaluated deny-by-default.
- :mod:`apiward.gateway.ratelimit`, :mod:`~apiward.gateway.ratelimit_redis`: GCRA and
  sliding-window limits in memory or in Redis (one atomic Lua call per hit, fail closed).
- :mod:`apiward.gateway.auditlog`: the hash-chained audit log (SQLite or PostgreSQL,
  batched, spooled to disk while the database is down).
- :mod:`apiward.gateway.validate`: parameters, content types and bodies against the
  operation's schemas (jsonschema-rs, compiled once), size limits enforced while reading.
- :mod:`apiward.gateway.response_filter`: only the fields the response schema declares
  leave, sensitive values masked.
"""

from apiward.gateway.middleware import GatewayMiddleware

__all__ = ["GatewayMiddleware"]
