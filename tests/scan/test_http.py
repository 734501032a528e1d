"""The reproducing curl and the masking of an exchange, run through a real shell."""

from __future__ import annotations

import subprocess

import httpx

from apiward.scan.http import Exchange, Secrets


def exchange(body: bytes, headers: tuple[tuple[str, str], ...]) -> Exchange:
    secrets = Secrets()
    secrets.add("tok-0123456789", "ALICE_TOKEN")
    return Exchange(
        "PATCH", "http://127.0.0.1:9/users/me", headers, body, 200, httpx.Headers(), b"", 0.1,
        _secrets=secrets,
    )  # fmt: skip


def shell(command: str, **env: str) -> str:
    done = subprocess.run(["bash", "-c", command], capture_output=True, text=True, env=env)
    return done.stdout


def test_secrets_become_variables_that_the_shell_expands() -> None:
    ex = exchange(b"{}", (("authorization", "Bearer tok-0123456789"), ("accept", "*/*")))
    curl = ex.curl()
    assert "tok-0123456789" not in curl and "accept" not in curl
    header = curl.split(" -H ")[1].split(" --data-binary")[0]
    assert shell(f"printf %s {header}", ALICE_TOKEN="zz") == "authorization: Bearer zz"
    assert "tok-0123456789" not in ex.request_text()


def test_a_huge_body_is_rebuilt_exactly_by_the_command() -> None:
    body = ('{"name": "' + "A" * 200_000 + '", "note": "it\'s $HOME `x`"}').encode()
    ex = exchange(body, (("content-type", "application/json"),))
    curl = ex.curl()
    assert len(curl) < 1000 and curl.endswith("--data-binary @-")
    producer = curl.split(" | curl ")[0]
    assert shell(producer).encode() == body
