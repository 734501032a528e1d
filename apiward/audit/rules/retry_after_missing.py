from __future__ import annotations

from collections.abc import Iterator

from apiward.audit.rule import Hit, rule
from apiward.core import Document, Location, Owasp, Severity


@rule(
    severity=Severity.LOW,
    category=Owasp.API4,
    cwe=770,
    remediation="Declare a `Retry-After` header on 429 responses and send it, so clients "
    "know when to come back instead of retrying in a loop.",
)
def retry_after_missing(doc: Document) -> Iterator[Hit]:
    """429 response has no Retry-After header.

    Checks every 429 (Too Many Requests) response for a `Retry-After` header
    (any case). Without it clients guess when to retry; the eager ones hammer
    an API that is already shedding load. Spectral only looks when the 429
    declares some headers; here a 429 with no headers at all is flagged too.
    A 429 shared through `components/responses` is one finding, used by every
    operation that references it.

    Equivalent: Spectral owasp:api4:2023-rate-limit-retry-after.
    """
    seen: set[Location] = set()
    for op in doc.operations:
        response = op.responses.get("429")
        if response is None or response.location in seen:
            continue
        seen.add(response.location)
        if not any(name.lower() == "retry-after" for name in response.headers):
            yield Hit(response.location, "429 response does not declare a Retry-After header")
