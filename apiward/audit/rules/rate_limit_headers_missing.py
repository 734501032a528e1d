from __future__ import annotations

from collections.abc import Iterator

from apiward.audit.operation_groups import per_operation
from apiward.audit.rule import Hit, rule
from apiward.audit.schema_groups import listing, plural
from apiward.core import Document, Owasp, Response, Severity

# IETF RateLimit / RateLimit-Policy (draft-ietf-httpapi-ratelimit-headers), GitHub's
# X-RateLimit-*, Twitter's X-Rate-Limit-*: any header of these families counts
_PREFIXES = ("ratelimit", "x-ratelimit", "x-rate-limit")


def declares_rate_limit(response: Response) -> bool:
    """Whether a response declares a rate-limit header (any family, any case)."""
    return any(name.lower().startswith(_PREFIXES) for name in response.headers)


@rule(
    severity=Severity.LOW,
    category=Owasp.API4,
    cwe=770,
    remediation="Rate-limit the API and say so: declare `RateLimit`/`RateLimit-Policy` "
    "(IETF draft) or `X-RateLimit-Limit`/`-Remaining`/`-Reset` headers on 2XX and 4XX "
    "responses (a shared `components/headers` entry keeps it short).",
)
def rate_limit_headers_missing(doc: Document) -> Iterator[Hit]:
    """Responses declare no rate-limit headers.

    Checks the 2XX and 4XX responses of every operation for a rate-limit
    header: `RateLimit`, `RateLimit-Policy`, `RateLimit-Limit` (IETF draft),
    `X-RateLimit-*` or `X-Rate-Limit-*`, in any case. Their absence suggests
    no rate limiting is in place, and leaves well-behaved clients no way to
    pace themselves. One finding per operation names its responses without
    them; when most operations lack them it is one API-wide finding at
    `/paths` listing them.

    Equivalent: Spectral owasp:api4:2023-rate-limit.
    """
    found = []
    considered = 0
    for op in doc.operations:
        statuses = [s for s in op.responses if s.startswith(("2", "4"))]
        if not statuses:
            continue
        considered += 1
        missing = [s for s in statuses if not declares_rate_limit(op.responses[s])]
        if missing:
            found.append(
                (
                    op,
                    f"{op.key}: {plural(len(missing), 'response')} without rate-limit "
                    f"headers: {listing(missing)}",
                )
            )
    yield from per_operation(
        doc,
        found,
        considered,
        lambda share: f"{share} operations have 2XX/4XX responses without rate-limit headers",
    )
