from typing import Any

from tests.audit.conftest import run, spec

RULE = "rate-limit-headers-missing"
LIMITED = {"description": "ok", "headers": {"X-RateLimit-Limit": {"schema": {"type": "integer"}}}}
IETF = {"description": "ok", "headers": {"ratelimit-policy": {"schema": {"type": "string"}}}}
BARE = {"description": "ok"}


def ops(**responses: dict[str, Any]) -> dict[str, Any]:
    return {f"/{name}": {"get": {"responses": r}} for name, r in responses.items()}


def test_fires_per_operation_when_few_lack_them() -> None:
    doc = spec(
        ops(
            a={"200": LIMITED, "404": BARE, "500": BARE},
            b={"200": LIMITED},
            c={"200": IETF, "4XX": IETF},
        )
    )
    hits = run(RULE, doc)
    assert [h.location.pointer for h in hits] == ["/paths/~1a/get"]
    assert hits[0].message == "GET /a: 1 response without rate-limit headers: 404"


def test_one_api_wide_finding_when_most_lack_them() -> None:
    doc = spec(ops(a={"200": BARE}, b={"200": BARE, "429": BARE}, c={"200": LIMITED}))
    hits = run(RULE, doc)
    assert [h.location.pointer for h in hits] == ["/paths"]
    assert hits[0].message == "2 of 3 operations have 2XX/4XX responses without rate-limit headers"
    assert hits[0].usages is not None
    assert [u.key for u in hits[0].usages] == ["GET /a", "GET /b"]


def test_quiet_when_declared() -> None:
    doc = spec(ops(a={"200": LIMITED, "400": IETF, "500": BARE}, b={"204": LIMITED}))
    assert run(RULE, doc) == []
