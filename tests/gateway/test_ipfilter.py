"""IP allow/deny: deny wins, empty allow admits all, mapped IPv6, fail closed, merge."""

from __future__ import annotations

import pytest

from apiward.errors import ConfigError
from apiward.gateway.ipfilter import IpFilter, merge


@pytest.mark.parametrize(
    "ip", ["10.1.2.3", "10.255.255.255", "192.168.1.7", "2001:db8::1", "2001:db8:ffff::9"]
)
def test_allowed_addresses_pass(ip: str) -> None:
    f = IpFilter(allow=["10.0.0.0/8", "192.168.1.7", "2001:db8::/32"])
    assert f.decide(ip) is True


@pytest.mark.parametrize("ip", ["11.0.0.1", "192.168.1.8", "2001:db9::1", "::1", "127.0.0.1"])
def test_addresses_outside_the_allow_list_are_refused(ip: str) -> None:
    f = IpFilter(allow=["10.0.0.0/8", "192.168.1.7", "2001:db8::/32"])
    assert f.decide(ip) is False


def test_deny_wins_over_allow() -> None:
    f = IpFilter(allow=["10.0.0.0/8"], deny=["10.6.6.0/24", "10.0.0.99"])
    assert f.decide("10.6.6.1") is False
    assert f.decide("10.0.0.99") is False
    assert f.decide("10.6.7.1") is True
    assert f.decide("10.0.0.98") is True


def test_empty_allow_list_admits_everything_not_denied() -> None:
    f = IpFilter(deny=["203.0.113.0/24", "2001:db8::/32"])
    assert f.decide("198.51.100.1") is True
    assert f.decide("2001:db9::1") is True
    assert f.decide("203.0.113.5") is False
    assert f.decide("2001:db8::5") is False


def test_ipv4_only_allow_list_refuses_ipv6_clients() -> None:
    f = IpFilter(allow=["10.0.0.0/8"])
    assert f.decide("2001:db8::1") is False


@pytest.mark.parametrize("ip", ["::ffff:10.0.0.1", "::FFFF:10.0.0.1", "::ffff:a00:1"])
def test_ipv4_mapped_ipv6_is_matched_as_ipv4(ip: str) -> None:
    assert IpFilter(allow=["10.0.0.0/8"]).decide(ip) is True
    assert IpFilter(deny=["10.0.0.1"]).decide(ip) is False


def test_mapped_entries_in_config_match_the_ipv4_form() -> None:
    f = IpFilter(deny=["::ffff:10.0.0.0/104"])
    assert f.deny == ("10.0.0.0/8",)
    assert f.decide("10.9.9.9") is False
    assert f.decide("11.0.0.1") is True


@pytest.mark.parametrize(
    "ip", ["", " ", "not-an-ip", "10.0.0", "010.0.0.1", "10.0.0.1:8080", "[::1]", "::g", "unix:"]
)
def test_unparseable_client_addresses_are_refused(ip: str) -> None:
    # even with nothing denied and no allow list: fail closed
    assert IpFilter(deny=["203.0.113.0/24"]).decide(ip) is False
    assert IpFilter(allow=["0.0.0.0/0", "::/0"]).decide(ip) is False


@pytest.mark.parametrize(
    ("entry", "hint"),
    [
        ("10.0.0.0/33", "10.0.0.0/33"),
        ("banana", "banana"),
        ("", "''"),
        ("10.0.0.1/8", "did you mean 10.0.0.0/8"),
        ("2001:db8::1/32", "did you mean 2001:db8::/32"),
    ],
)
def test_bad_entries_are_config_errors_naming_the_entry(entry: str, hint: str) -> None:
    with pytest.raises(ConfigError, match="allow") as caught:
        IpFilter(allow=["10.0.0.0/8", entry])
    assert hint in str(caught.value)


def test_a_single_string_instead_of_a_list_is_refused() -> None:
    with pytest.raises(ConfigError, match="deny"):
        IpFilter(deny="10.0.0.0/8")


def test_decisions_are_cached_and_the_cache_is_bounded() -> None:
    f = IpFilter(allow=["10.0.0.0/8"], cache_size=16)
    for i in range(100):
        assert f.decide(f"10.0.0.{i}") is True
        assert f.decide(f"11.0.0.{i}") is False
    assert len(f._cache) <= 16
    assert f.decide("10.0.0.99") is True and f.decide("garbage") is False
    assert f.decide("garbage") is False  # a cached refusal is still a refusal


def test_inactive_filter() -> None:
    assert not IpFilter().active
    assert IpFilter().decide("10.0.0.1") is True
    assert IpFilter(deny=["10.0.0.1"]).active


def test_merge_adds_deny_lists_and_operation_allow_replaces() -> None:
    api = IpFilter(allow=["10.0.0.0/8"], deny=["10.6.6.0/24"])
    op = IpFilter(allow=["192.0.2.0/24"], deny=["192.0.2.66"])
    m = merge(api, op)
    assert m.allow == ("192.0.2.0/24",)
    assert m.deny == ("10.6.6.0/24", "192.0.2.66/32")
    assert m.decide("192.0.2.1") is True
    assert m.decide("192.0.2.66") is False
    assert m.decide("10.0.0.1") is False  # replaced: no longer allowed here


def test_merge_operation_deny_only_keeps_the_api_allow_list() -> None:
    api = IpFilter(allow=["10.0.0.0/8"], deny=["10.6.6.0/24"])
    m = merge(api, IpFilter(deny=["10.0.0.99"]))
    assert m.allow == ("10.0.0.0/8",)
    assert m.decide("10.0.0.98") is True
    assert m.decide("10.0.0.99") is False
    assert m.decide("10.6.6.6") is False  # the API's deny still applies
    assert m.decide("11.0.0.1") is False


def test_merge_operation_cannot_unblock_an_api_deny() -> None:
    api = IpFilter(deny=["10.6.6.0/24"])
    m = merge(api, IpFilter(allow=["10.6.6.0/24"]))
    assert m.decide("10.6.6.1") is False


def test_merge_without_operation_lists_shares_the_api_filter() -> None:
    api = IpFilter(allow=["10.0.0.0/8"])
    assert merge(api, None) is api
    assert merge(api, IpFilter()) is api


def test_equal_lists_compare_equal_and_duplicates_collapse() -> None:
    assert IpFilter(allow=["10.0.0.1", "10.0.0.1/32"]) == IpFilter(allow=["10.0.0.1"])
    assert "10.0.0.1/32" in repr(IpFilter(allow=["10.0.0.1"]))
