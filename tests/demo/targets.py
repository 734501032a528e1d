"""A canary HTTP server and a client for one running demo server, both on 127.0.0.1."""

from __future__ import annotations

import base64
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
from joserfc import jwt
from joserfc.jwk import OctKey

from apiward.demo import Manifest

FEED_MERCHANT = "canary-' || sqlite_version() || '"


class Canary:
    """Records every request; answers a merchant feed under /partner-feed, text elsewhere."""

    def __init__(self) -> None:
        self.hits: list[str] = []
        hits = self.hits

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                hits.append(self.path)
                if self.path.startswith("/partner-feed"):
                    feed = [{"name": FEED_MERCHANT, "category": "food", "city": "Lisbon"}]
                    body, kind = json.dumps(feed).encode(), "application/json"
                elif "feed" in self.path:
                    body, kind = b"[]", "application/json"
                else:
                    body, kind = b"canary-body:" + self.path.encode(), "text/plain"
                self.send_response(200)
                self.send_header("Content-Type", kind)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def count(self, path: str) -> int:
        return sum(1 for hit in self.hits if hit == path)


class Target:
    """One running demo server, with its mode, a client and tokens for the seeded users."""

    def __init__(self, mode: str, url: str, key: bytes, manifest: Manifest, canary: Canary) -> None:
        self.mode = mode
        self.url = url
        self.key = OctKey(key, key)
        self.manifest = manifest
        self.canary = canary
        self.client = httpx.Client(base_url=url, trust_env=False, timeout=10)
        self._tokens: dict[str, str] = {}

    @property
    def vulnerable(self) -> bool:
        return self.mode == "vulnerable"

    def login(self, username: str) -> str:
        """A real token from POST /auth/login, cached (tokens outlive resets)."""
        if username not in self._tokens:
            password = self.manifest.user(username).password
            resp = self.client.post(
                "/auth/login", json={"username": username, "password": password}
            )
            assert resp.status_code == 200, resp.text
            self._tokens[username] = resp.json()["access_token"]
        return self._tokens[username]

    def token(self, identity: str) -> str:
        """A token for a manifest identity: a username, or a forged "<recipe>:<username>"."""
        recipe, _, username = identity.rpartition(":")
        user = self.manifest.user(username)
        now = int(time.time())
        claims = {"sub": user.username, "uid": user.id, "role": user.role, "iss": "apiward-demo"}
        if recipe == "":
            return self.login(username)
        if recipe == "alg-none":
            return f"{_b64({'alg': 'none', 'typ': 'JWT'})}.{_b64(claims)}."
        if recipe == "weak-secret":
            weak = self.manifest.weak_jwt_secret.encode()
            claims |= {"iat": now, "exp": now + 600}
            return jwt.encode({"alg": "HS256"}, claims, OctKey(weak, weak), algorithms=["HS256"])
        if recipe == "expired":
            claims |= {"iat": now - 7200, "exp": now - 3600}
            return jwt.encode({"alg": "HS256"}, claims, self.key, algorithms=["HS256"])
        raise ValueError(f"unknown identity recipe {recipe!r}")

    def request(
        self, method: str, path: str, identity: str | None = None, **kw: Any
    ) -> httpx.Response:
        headers = dict(kw.pop("headers", {}))
        if identity is not None:
            headers["Authorization"] = f"Bearer {self.token(identity)}"
        return self.client.request(method, path, headers=headers, **kw)

    def reset(self) -> None:
        resp = self.request("POST", "/admin/reset", "admin")
        assert resp.status_code == 204, resp.text


def _b64(data: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()
