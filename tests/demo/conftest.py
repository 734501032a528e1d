"""Real demo servers (both modes) and a canary HTTP server, all on 127.0.0.1."""

from __future__ import annotations

import secrets
from collections.abc import Iterator

import pytest

from apiward.demo import Manifest, Settings, load_manifest, serve
from tests.demo.targets import Canary, Target

MODES = ("vulnerable", "secure")


@pytest.fixture(scope="session")
def manifest() -> Manifest:
    return load_manifest()


@pytest.fixture(scope="session")
def canary() -> Iterator[Canary]:
    server = Canary()
    server.thread.start()
    yield server
    server.server.shutdown()
    server.server.server_close()


@pytest.fixture(scope="session")
def targets(manifest: Manifest, canary: Canary) -> Iterator[dict[str, Target]]:
    secure_key = secrets.token_bytes(32)
    weak = manifest.weak_jwt_secret.encode()
    feed = f"{canary.url}/partner-feed"
    with (
        serve(False, settings=Settings(partner_feed_url=feed)) as vulnerable_url,
        serve(True, settings=Settings(partner_feed_url=feed, jwt_secret=secure_key)) as secure_url,
    ):
        found = {
            "vulnerable": Target("vulnerable", vulnerable_url, weak, manifest, canary),
            "secure": Target("secure", secure_url, secure_key, manifest, canary),
        }
        yield found
        for target in found.values():
            target.client.close()


@pytest.fixture(params=MODES)
def target(request: pytest.FixtureRequest, targets: dict[str, Target]) -> Target:
    """Each mode in turn, reset to the seed."""
    found = targets[request.param]
    found.reset()
    return found
