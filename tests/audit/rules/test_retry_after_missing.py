from tests.audit.conftest import run, spec

RULE = "retry-after-missing"
TOO_MANY = {"description": "slow down"}


def test_fires_once_for_a_shared_429() -> None:
    shared = {"$ref": "#/components/responses/TooMany"}
    doc = spec(
        {
            "/a": {"get": {"responses": {"429": shared}}},
            "/b": {"get": {"responses": {"429": shared}}},
            "/c": {"get": {"responses": {"429": {"description": "x", "headers": {}}}}},
        },
        components={"responses": {"TooMany": TOO_MANY}},
    )
    hits = run(RULE, doc)
    assert [h.location.pointer for h in hits] == [
        "/components/responses/TooMany",
        "/paths/~1c/get/responses/429",
    ]


def test_quiet_with_retry_after_in_any_case() -> None:
    response = {"description": "x", "headers": {"retry-after": {"schema": {"type": "integer"}}}}
    doc = spec({"/a": {"get": {"responses": {"429": response, "200": {"description": "ok"}}}}})
    assert run(RULE, doc) == []
