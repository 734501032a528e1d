"""Two `apiward gateway` processes sharing one Redis: exactly the configured limit together,
and a revocation made through one gateway's admin API refused by the other."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import redis

from apiward.demo import Settings, create_app, demo_file, serve_app
from tests.gateway.policies.conftest import KEY, bearer
from tests.gateway.test_server import _wait_listening, start_gateway

URL = "redis://127.0.0.1:6379/0"
LIMIT = 40
ADMIN = {"Authorization": "Bearer admin-token-for-tests-0"}


def _config(upstream: str, tmp: Path, name: str, prefix: str) -> Path:
    path = tmp / f"{name}.yaml"
    path.write_text(f"""
gateway:
  listen: 127.0.0.1:0
  admin: {{listen: "127.0.0.1:0", token: admin-token-for-tests-0}}
  redis: {{url: "{URL}", prefix: "{prefix}", timeout: 5s}}  # exactness, not timeouts
  revocations: {{poll-interval: 100ms, stale-after: 30s}}
  audit: {{store: "sqlite:{tmp / name}.db", spool-dir: "{tmp / name}-spool", chain: {name}}}
  apis:
    - name: bank
      spec: {demo_file("openapi.yaml")}
      upstream: {{targets: ["{upstream}"]}}
      auth:
        jwt:
          bearerAuth:
            keys: [{{secret: "{KEY.decode()}", algorithms: [HS256]}}]
            issuer: apiward-demo
      rate-limits:
        - {{operations: getProfile, requests: {LIMIT}, per: 1h, by: user}}
""")
    return path


@pytest.fixture
def prefix() -> Iterator[str]:
    value = f"apiward-test-gw-{uuid.uuid4().hex}"
    yield value
    client = redis.Redis.from_url(URL)
    keys = list(client.scan_iter(match=f"{value}:*", count=1000))
    if keys:
        client.delete(*keys)
    client.close()


@pytest.fixture
def gateways(tmp_path: Path, prefix: str) -> Iterator[list[tuple[str, str]]]:
    """Two gateways (traffic URL, admin URL) in front of the demo bank, sharing Redis."""
    with serve_app(create_app(False, settings=Settings(jwt_secret=KEY))) as upstream:
        procs, urls = [], []
        try:
            for name in ("gw-a", "gw-b"):
                config = _config(upstream, tmp_path, name, prefix)
                log = tmp_path / f"{name}.log"
                proc = start_gateway(config, log)
                procs.append(proc)
                urls.append(_wait_listening(proc, log))
            yield urls
        finally:
            for proc in procs:
                proc.terminate()
            for proc in procs:
                proc.wait(30)


def test_two_gateways_admit_exactly_the_limit_together(gateways: list[tuple[str, str]]) -> None:
    codes = asyncio.run(_hammer([traffic for traffic, _ in gateways], 3 * LIMIT))
    assert codes.count(200) == LIMIT
    assert codes.count(429) == 2 * LIMIT
    assert len(codes) == 3 * LIMIT


async def _hammer(urls: list[str], total: int) -> list[int]:
    headers = bearer()
    async with httpx.AsyncClient(timeout=30) as client:

        async def one(i: int) -> int:
            r = await client.get(urls[i % len(urls)] + "/users/me", headers=headers)
            return r.status_code

        return list(await asyncio.gather(*(one(i) for i in range(total))))


def test_a_token_revoked_through_one_gateway_is_refused_by_the_other(
    gateways: list[tuple[str, str]],
) -> None:
    (_, admin_a), (traffic_b, admin_b) = gateways
    leaked = bearer(jti="leaked-token-1")
    assert httpx.get(traffic_b + "/accounts", headers=leaked).status_code == 200
    answer = httpx.post(
        admin_a + "/revocations",
        headers=ADMIN,
        json={"kind": "token", "id": "leaked-token-1", "expires_in": 600, "note": "ticket 42"},
    )
    assert answer.status_code == 201, answer.text
    deadline = time.monotonic() + 15  # b polls every 100 ms; a bound, not a timing claim
    while time.monotonic() < deadline:
        r = httpx.get(traffic_b + "/accounts", headers=leaked)
        if r.status_code != 200:
            break
        time.sleep(0.05)
    assert (r.status_code, r.json()["reason"]) == (401, "token_revoked")
    assert httpx.get(traffic_b + "/accounts", headers=bearer(jti="other")).status_code == 200
    listed = httpx.get(admin_b + "/revocations", headers=ADMIN).json()
    assert [(e["kind"], e["id"], e["note"]) for e in listed["revocations"]] == [
        ("token", "leaked-token-1", "ticket 42")
    ]
    assert listed["store"].startswith("redis:") and listed["stale"] is False
