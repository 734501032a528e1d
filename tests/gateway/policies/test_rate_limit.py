"""Rate limits by subject: per IP before authentication, per user, and quotas across operations."""

from __future__ import annotations

from apiward.gateway.policies import RateRule
from apiward.gateway.ratelimit import Limit
from tests.gateway.policies.conftest import bank, bearer


def test_per_ip_limits_run_before_authentication() -> None:
    with bank(limits=[RateRule("*", Limit(3, 60), by="ip")]) as client:
        bad = {"Authorization": "Bearer not-a-token"}
        codes = [client.get("/users/me", headers=bad).status_code for _ in range(5)]
    assert codes == [401, 401, 401, 429, 429]


def test_each_user_has_their_own_budget() -> None:
    with bank(limits=[RateRule("getProfile", Limit(2, 60), by="user")]) as client:
        alice = [client.get("/users/me", headers=bearer()).status_code for _ in range(3)]
        bob = client.get("/users/me", headers=bearer("bob", 2))
        other_op = client.get("/accounts", headers=bearer())
    assert alice == [200, 200, 429]
    assert bob.status_code == 200 and bob.headers["ratelimit-remaining"] == "1"
    assert other_op.status_code == 200


def test_a_quota_spans_the_operations_it_selects() -> None:
    rule = RateRule("*", Limit(3, 3600), by="user", per_operation=False)
    with bank(limits=[rule]) as client:
        codes = [
            client.get(path, headers=bearer()).status_code
            for path in ("/users/me", "/accounts", "/transfers", "/users/me")
        ]
    assert codes == [200, 200, 200, 429]


def test_unknown_paths_count_against_star_rules() -> None:
    with bank(limits=[RateRule("*", Limit(3, 60), by="ip")]) as client:
        codes = [client.get(f"/nowhere/{i}").status_code for i in range(5)]
    assert codes == [404, 404, 404, 429, 429]
