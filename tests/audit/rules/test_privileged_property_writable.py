from tests.audit.conftest import run
from tests.audit.rules.bodies import BODY, components, ref, returned, sent

RULE = "privileged-property-writable"


def test_fires_on_writable_privileged_properties() -> None:
    user = {
        "type": "object",
        "properties": {
            "name": {"type": "string"},
            "isAdmin": {"type": "boolean"},
            "role": ref("Role"),
            "account": {"type": "object", "properties": {"balance": {"type": "number"}}},
        },
    }
    doc = sent(ref("User"), components=components(User=user, Role={"enum": ["a", "b"]}))
    hits = run(RULE, doc)
    assert [h.location.pointer for h in hits] == ["/components/schemas/User"]
    assert hits[0].message == (
        "3 privileged properties clients can set: User.isAdmin, User.role, User.account.balance"
    )


def test_fires_on_inline_bodies() -> None:
    hits = run(RULE, sent({"type": "object", "properties": {"owner_id": {"type": "string"}}}))
    assert [(h.location.pointer, h.message) for h in hits] == [
        (BODY, "1 privileged property clients can set: owner_id")
    ]


def test_quiet_when_read_only_or_response_only() -> None:
    props = {
        "role": {"type": "string", "readOnly": True},
        "permissions": ref("Perms"),
        "meta": {"type": "object", "readOnly": True, "properties": {"admin": {}}},
        "roleName": {"type": "string"},
    }
    perms = {"type": "array", "readOnly": True}
    doc = sent({"type": "object", "properties": props}, components=components(Perms=perms))
    assert run(RULE, doc) == []
    assert run(RULE, returned({"type": "object", "properties": {"role": {}}})) == []
