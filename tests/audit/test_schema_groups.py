from apiward.audit.schema_groups import Labels, accepts_anything, listing, plural, root, words
from tests.audit.rules.bodies import components, ref, sent


def test_labels_name_properties_items_and_maps() -> None:
    user = {
        "type": "object",
        "properties": {
            "tags": {"type": "array", "items": {"type": "string"}},
            "meta": {"type": "object", "additionalProperties": {"type": "integer"}},
            "pet": {"oneOf": [{"properties": {"name": {"type": "string"}}}]},
        },
        "$defs": {"Inner": {"type": "string"}},
    }
    doc = sent(ref("User"), components=components(User=user))
    names = Labels()
    by_pointer = {n.location.pointer: n for n in doc.schema_index}
    base = "/components/schemas/User"
    assert names(by_pointer[base]) == "User"
    assert names(by_pointer[base + "/properties/tags/items"]) == "User.tags[]"
    assert names(by_pointer[base + "/properties/meta/additionalProperties"]) == "User.meta.*"
    assert names(by_pointer[base + "/properties/pet/oneOf/0/properties/name"]) == "User.pet.name"
    assert names(by_pointer[base + "/$defs/Inner"]) == "User"
    leaf = by_pointer[base + "/properties/tags/items"]
    assert root(leaf) is by_pointer[base]
    assert names.child(by_pointer[base], "x") == "User.x"


def test_inline_root_reads_as_schema() -> None:
    doc = sent({"type": "object", "properties": {"a": {"type": "string"}}})
    nodes = list(doc.schema_index)
    top = next(n for n in nodes if n.parent is None)
    assert Labels()(top) == "(schema)"
    assert Labels().child(top, "a") == "a"


def test_listing_and_plural() -> None:
    assert listing(["a", "b"]) == "a, b"
    assert listing([str(i) for i in range(7)]) == "0, 1, 2, 3, 4 and 2 more"
    assert plural(1, "map") == "1 map"
    assert plural(2, "property", "properties") == "2 properties"


def test_accepts_anything_and_words() -> None:
    assert accepts_anything(True)
    assert accepts_anything({"description": "x", "x-note": 1})
    assert not accepts_anything({"type": "string"})
    assert not accepts_anything(False)
    assert words("userAPIKey_2") == ("user", "api", "key", "2")
