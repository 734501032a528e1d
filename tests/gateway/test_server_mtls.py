"""`apiward gateway` terminating TLS with client certificates: a `mutualTLS` scheme end to end."""

from __future__ import annotations

import json
import signal
from pathlib import Path

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from apiward.demo import serve_app
from tests.gateway.test_server import _wait_listening, start_gateway
from tests.gateway.test_tls import Pki, client_context, pki  # noqa: F401 - the fixture

USER = {"type": "object", "properties": {"user": {"type": "string"}}}
SPEC = {
    "openapi": "3.1.0",
    "info": {"title": "m", "version": "1"},
    "components": {"securitySchemes": {"clientCert": {"type": "mutualTLS"}}},
    "security": [{"clientCert": ["reader"]}],
    "paths": {
        "/whoami": {
            "get": {
                "responses": {
                    "200": {
                        "description": "ok",
                        "content": {
                            "application/json": {
                                "schema": {
                                    "type": "object",
                                    "properties": {"user": {"type": "string"}},
                                }
                            }
                        },
                    }
                }
            }
        }
    },
}


async def _whoami(request: Request) -> Response:
    return JSONResponse({"user": request.headers.get("x-apiward-user")})


def test_a_client_certificate_authenticates_and_names_the_user(tmp_path: Path, pki: Pki) -> None:  # noqa: F811
    spec = tmp_path / "spec.json"
    spec.write_text(json.dumps(SPEC))
    with serve_app(Starlette(routes=[Route("/whoami", _whoami)])) as upstream:
        config = tmp_path / "apiward.yaml"
        config.write_text(f"""
gateway:
  listen: 127.0.0.1:0
  admin: {{listen: "127.0.0.1:0"}}
  tls:
    cert: "{pki.server.cert_file}"
    key: "{pki.server.key_file}"
    client-ca: "{pki.ca.cert_file}"
  audit: {{store: "sqlite:{tmp_path / "a.db"}", spool-dir: "{tmp_path / "spool"}"}}
  apis:
    - name: m
      spec: {spec}
      upstream: {{targets: ["{upstream}"]}}
      auth: {{mtls: {{clientCert: {{roles: {{alice: [reader]}}}}}}}}
""")
        log = tmp_path / "gw.log"
        proc = start_gateway(config, log)
        try:
            url = _wait_listening(proc, log)[0].replace("http://", "https://")
            with httpx.Client(verify=client_context(pki, pki.alice), timeout=10) as client:
                answer = client.get(url + "/whoami")
            with httpx.Client(verify=client_context(pki, None), timeout=10) as client:
                anonymous = client.get(url + "/whoami")
        finally:
            proc.send_signal(signal.SIGTERM)
            proc.wait(30)
    assert answer.status_code == 200, answer.text
    assert answer.json() == {"user": "alice"}
    assert anonymous.status_code == 401
