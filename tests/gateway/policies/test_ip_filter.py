"""IP allow/deny lists as a policy: the API's lists, an operation's own, spoofing refused."""

from __future__ import annotations

import ipaddress

import pytest

from apiward.core import load
from apiward.demo import demo_file
from apiward.errors import ConfigError
from apiward.gateway.chain import ApiSetup
from apiward.gateway.ipfilter import IpFilter
from apiward.gateway.policies import IpFiltering, SecurityHeaders
from tests.gateway.policies.conftest import bank, bearer

SETUP = ApiSetup("bank", load(demo_file("openapi.yaml")))


def test_a_denied_client_is_refused_before_anything_else() -> None:
    chain = [IpFiltering(SETUP, IpFilter(deny=["127.0.0.0/8"])), SecurityHeaders()]
    with bank(policies=chain) as client:
        r = client.get("/users/me", headers=bearer())
    assert (r.status_code, r.json()["reason"]) == (403, "ip_not_allowed")


def test_an_operation_can_have_its_own_allow_list() -> None:
    admin_only_from_elsewhere = {"adminListUsers": IpFilter(allow=["10.0.0.0/8"])}
    chain = [IpFiltering(SETUP, IpFilter(), admin_only_from_elsewhere)]
    with bank(policies=chain) as client:
        assert client.get("/admin/users", headers=bearer()).status_code == 403
        assert client.get("/search?q=a").status_code == 200  # other operations unaffected


def test_forwarded_for_counts_only_from_a_trusted_proxy() -> None:
    chain = [IpFiltering(SETUP, IpFilter(allow=["10.1.2.3"]))]
    spoofed = {"X-Forwarded-For": "10.1.2.3"}
    with bank(policies=chain) as client:
        assert client.get("/search?q=a", headers=spoofed).status_code == 403
    trusted = [ipaddress.ip_network("127.0.0.0/8")]
    with bank(policies=chain, trusted_proxies=trusted) as client:
        assert client.get("/search?q=a", headers=spoofed).status_code == 200
        assert client.get("/search?q=a").status_code == 403


def test_a_list_naming_no_operation_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="no operation"):
        IpFiltering(SETUP, IpFilter(), {"adminListUser": IpFilter(deny=["10.0.0.1"])})


def test_the_forwarded_header_when_the_proxies_write_that_one() -> None:
    chain = [IpFiltering(SETUP, IpFilter(allow=["10.1.2.3"]))]
    trusted = [ipaddress.ip_network("127.0.0.0/8")]
    with bank(policies=chain, trusted_proxies=trusted, forwarded_header="forwarded") as client:
        assert client.get("/search?q=a", headers={"Forwarded": "for=10.1.2.3"}).status_code == 200
        # the other header is a client's say-so here
        assert client.get("/search?q=a", headers={"X-Forwarded-For": "10.1.2.3"}).status_code == 403
