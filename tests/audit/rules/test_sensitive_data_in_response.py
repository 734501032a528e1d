from typing import Any

import pytest

from apiward.audit.rules.sensitive_data_in_response import classify
from tests.audit.conftest import run, spec
from tests.audit.rules.bodies import RESPONSE, components, json_content, ref, returned, sent

RULE = "sensitive-data-in-response"


def test_fires_on_secrets_in_a_returned_component() -> None:
    user = {
        "type": "object",
        "properties": {
            "name": {"type": "string"},
            "passwordHash": {"type": "string"},
            "ssn": {"type": "string"},
            "card": {"type": "object", "properties": {"cvv2": {"type": "string"}}},
            "apiKey": ref("Key"),
            "hint": {"type": "string", "format": "password"},
        },
    }
    doc = returned(ref("User"), components=components(User=user, Key={"type": "string"}))
    hits = run(RULE, doc)
    assert [h.location.pointer for h in hits] == ["/components/schemas/User"]
    assert hits[0].message == (
        "5 sensitive properties in a response: User.apiKey, User.hint, "
        "User.passwordHash, User.ssn, User.card.cvv2"
    )


def test_fires_on_inline_response() -> None:
    hits = run(RULE, returned({"type": "object", "properties": {"password": {"type": "string"}}}))
    assert [(h.location.pointer, h.message) for h in hits] == [
        (RESPONSE, "1 sensitive property in a response: password")
    ]


def test_quiet_on_request_only_schemas() -> None:
    schema = {"type": "object", "properties": {"password": {"type": "string"}}}
    assert run(RULE, sent(schema)) == []


def test_quiet_on_write_only_and_non_secret_names() -> None:
    props: dict[str, Any] = {
        "password": {"type": "string", "writeOnly": True},
        "secret": ref("Hidden"),
        "password_changed_at": {"type": "string"},
        "has_password": {"type": "boolean"},
        "pin": {"type": "boolean"},
        "next_page_token": {"type": "string"},
        "token_type": {"type": "string"},
        "card_last4": {"type": "string"},
        "pinned": {"type": "boolean"},
    }
    hidden = {"type": "string", "writeOnly": True}
    doc = returned({"type": "object", "properties": props}, components=components(Hidden=hidden))
    assert run(RULE, doc) == []


def test_tokens_are_expected_from_token_endpoints_only() -> None:
    tokens = {
        "type": "object",
        "properties": {"access_token": {"type": "string"}, "password": {"type": "string"}},
    }
    ok = {"200": {"description": "ok", "content": json_content(ref("Tokens"))}}
    login = spec(
        {"/oauth/token": {"post": {"responses": ok}}},
        components=components(Tokens=tokens),
    )
    [hit] = run(RULE, login)
    assert hit.message == "1 sensitive property in a response: Tokens.password"
    shared = spec(
        {"/oauth/token": {"post": {"responses": ok}}, "/me": {"get": {"responses": ok}}},
        components=components(Tokens=tokens),
    )
    [hit] = run(RULE, shared)
    assert hit.message == (
        "2 sensitive properties in a response: Tokens.access_token, Tokens.password"
    )


@pytest.mark.parametrize(
    ("name", "kind"),
    [
        ("password", "secret"),
        ("new_password", "secret"),
        ("password_digest", "secret"),
        ("creditCardNumber", "secret"),
        ("pan", "secret"),
        ("CVC", "secret"),
        ("social_security_number", "secret"),
        ("refreshToken", "issued"),
        ("client_secret", "issued"),
        ("private_key", "issued"),
        ("API_KEY", "issued"),
        ("company", None),
        ("token_expires_at", None),
        ("is_password_set", None),
        ("masked_pan", None),
        ("csrf_token", None),
        ("keyword", None),
        ("ClientToken", None),
        ("attributionToken", None),
        ("temp_clone_token", "issued"),
        ("sessionToken", "issued"),
    ],
)
def test_classify(name: str, kind: str | None) -> None:
    assert classify(name) == kind
