"""``apiward gateway`` (in progress): the security gateway's building blocks.

The reverse proxy and the ASGI middleware that wire these together per operation
come next (issue #4). Each block is usable and tested on its own:

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
"""
