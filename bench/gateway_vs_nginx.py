"""apiward gateway (full chain) vs nginx as a plain reverse proxy, side by side, with wrk.

    python3 bench/gateway_vs_nginx.py [--duration 10] [--rounds 3] [--connections 32]
                                      [--skip-redis]

Needs ``wrk`` and ``nginx`` (Debian: ``apt-get install wrk nginx-light``). Everything runs on
127.0.0.1: one nginx serves a small JSON object (the upstream, 1 worker) and, in a second
server block, proxies to it (the reference, 1 worker, keep-alive to the upstream); the
gateway (one process) proxies to the same upstream with the full chain on:

- JWT (HS256) with the verified-token cache, and the operation's scope required,
- an in-memory rate limit (high enough never to refuse), then the same limit in Redis,
- request validation (path and query parameters against the spec),
- response filtering (the upstream sends a field the schema lacks: it is stripped),
- the hash-chained audit log (SQLite), metrics, security headers.

Load: ``wrk -t1 -c<connections> -d<duration>s --latency``, rounds alternating between the
set-ups (so drift on this noisy 2-core machine hits both), medians reported. Low load:
``wrk -t1 -c1`` on the upstream directly and through each proxy; "added" is the proxy's p99
minus the direct p99. The bar (issue #4): gateway >= 0.10 of nginx's throughput, and under
1 ms added at p99 at low load.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from joserfc import jwt
from joserfc.jwk import OctKey

SECRET = "bench-secret-0123456789-0123456789-abcdef"
BODY = '{"id":7,"name":"widget","price":12.5,"owner":"alice","internal_cost":3.2}'
SPEC = """
openapi: 3.1.0
info: {title: bench, version: "1"}
components:
  securitySchemes:
    bearer: {type: http, scheme: bearer, bearerFormat: JWT}
security: [{bearer: [items.read]}]
paths:
  /items/{id}:
    get:
      operationId: getItem
      parameters:
        - {name: id, in: path, required: true, schema: {type: integer, minimum: 1}}
        - {name: fields, in: query, schema: {type: string, maxLength: 64}}
      responses:
        "200":
          description: the item
          content:
            application/json:
              schema:
                type: object
                additionalProperties: false
                properties:
                  id: {type: integer}
                  name: {type: string}
                  price: {type: number}
                  owner: {type: string}
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def token() -> str:
    now = int(time.time())
    claims = {"sub": "alice", "scope": "items.read", "iat": now, "exp": now + 3600}
    return jwt.encode({"alg": "HS256"}, claims, OctKey.import_key(SECRET.encode()), ["HS256"])


@contextmanager
def nginx(work: Path, upstream: int, proxy: int) -> Iterator[None]:
    conf = work / "nginx.conf"
    conf.write_text(f"""
worker_processes 1;
daemon off;
pid {work}/nginx.pid;
error_log {work}/nginx-error.log;
events {{ worker_connections 4096; }}
http {{
  access_log off;
  server {{
    listen 127.0.0.1:{upstream};
    location / {{ default_type application/json; return 200 '{BODY}'; }}
  }}
  upstream up {{ server 127.0.0.1:{upstream}; keepalive 64; }}
  server {{
    listen 127.0.0.1:{proxy};
    location / {{ proxy_pass http://up; proxy_http_version 1.1;
                 proxy_set_header Connection ""; }}
  }}
}}
""")
    proc = subprocess.Popen(["nginx", "-c", str(conf), "-p", str(work)], stderr=subprocess.DEVNULL)
    try:
        wait_http(f"http://127.0.0.1:{proxy}/items/1")
        yield
    finally:
        proc.send_signal(signal.SIGQUIT)
        proc.wait(10)


@contextmanager
def gateway(work: Path, upstream: int, port: int, redis: str | None) -> Iterator[None]:
    spec = work / "bench.yaml"
    spec.write_text(SPEC)
    config = work / f"apiward-{port}.yaml"
    redis_line = f"  redis: {{url: '{redis}', prefix: 'bench{port}'}}\n" if redis else ""
    config.write_text(f"""
gateway:
  listen: 127.0.0.1:{port}
  admin: {{listen: "127.0.0.1:0", token: bench-admin-token-0123456789}}
  audit: {{store: "sqlite:{work}/audit-{port}.db", spool-dir: "{work}/spool-{port}"}}
  logs: {{level: warning}}
{redis_line}  apis:
    - name: bench
      spec: {spec}
      upstream: {{targets: ["http://127.0.0.1:{upstream}"]}}
      auth:
        jwt:
          bearer:
            keys: [{{secret: "{SECRET}", algorithms: [HS256]}}]
      rate-limits:
        - {{requests: 100000000, per: 1m}}
""")
    log = (work / f"gateway-{port}.log").open("wb")
    proc = subprocess.Popen(
        [sys.executable, "-m", "apiward", "gateway", "--config", str(config)],
        stderr=log,
        stdout=subprocess.DEVNULL,
    )
    try:
        wait_http(f"http://127.0.0.1:{port}/items/1", {"Authorization": f"Bearer {token()}"})
        yield
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(30)
        log.close()


def wait_http(url: str, headers: dict[str, str] | None = None) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            req = urllib.request.Request(url, headers=headers or {})
            with urllib.request.urlopen(req, timeout=2) as answer:
                body = json.loads(answer.read())
                assert answer.status == 200, answer.status
                return_check(body)
                return
        except (OSError, ValueError):
            time.sleep(0.1)
    raise SystemExit(f"{url} did not answer 200 in time")


def return_check(body: dict[str, object]) -> None:
    if body.get("id") != 7:
        raise SystemExit(f"unexpected body {body}")


def wrk(url: str, duration: int, connections: int, auth: bool) -> dict[str, float]:
    cmd = ["wrk", "-t1", f"-c{connections}", f"-d{duration}s", "--latency"]
    if auth:
        cmd += ["-H", f"Authorization: Bearer {token()}"]
    out = subprocess.run([*cmd, url], capture_output=True, text=True, check=True).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    if non2xx:
        raise SystemExit(f"{url}: {non2xx.group(1)} non-2xx answers under load:\n{out}")
    lat = {
        p: _ms(m.group(1), m.group(2))
        for p, m in ((p, re.search(rf"\s{p}%\s+([\d.]+)(us|ms|s)", out)) for p in ("50", "99"))
        if m
    }
    return {"rps": rps, "p50": lat["50"], "p99": lat["99"]}


def _ms(value: str, unit: str) -> float:
    return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--skip-redis", action="store_true")
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/15")
    args = parser.parse_args()
    for tool in ("wrk", "nginx"):
        if shutil.which(tool) is None:
            raise SystemExit(f"{tool} is not installed (apt-get install wrk nginx-light)")
    up, nx, gw, gwr = free_port(), free_port(), free_port(), free_port()
    path = "/items/7?fields=name"
    with tempfile.TemporaryDirectory(prefix="apiward-bench-") as tmp:
        work = Path(tmp)
        with nginx(work, up, nx), gateway(work, up, gw, None):
            redis_ctx = gateway(work, up, gwr, None if args.skip_redis else args.redis)
            with redis_ctx if not args.skip_redis else _null():
                setups = {
                    "nginx proxy": (f"http://127.0.0.1:{nx}{path}", False),
                    "apiward gateway": (f"http://127.0.0.1:{gw}{path}", True),
                }
                if not args.skip_redis:
                    setups["apiward gateway, Redis limits"] = (
                        f"http://127.0.0.1:{gwr}{path}",
                        True,
                    )
                for url, auth in setups.values():  # warm-up
                    wrk(url, 2, args.connections, auth)
                load: dict[str, list[dict[str, float]]] = {name: [] for name in setups}
                for _ in range(args.rounds):
                    for name, (url, auth) in setups.items():
                        load[name].append(wrk(url, args.duration, args.connections, auth))
                low: dict[str, list[dict[str, float]]] = {"direct": [], **{n: [] for n in setups}}
                direct = f"http://127.0.0.1:{up}{path}"
                for _ in range(args.rounds):
                    low["direct"].append(wrk(direct, 5, 1, False))
                    for name, (url, auth) in setups.items():
                        low[name].append(wrk(url, 5, 1, auth))
    report(load, low, args)
    return 0


@contextmanager
def _null() -> Iterator[None]:
    yield


def med(runs: list[dict[str, float]], key: str) -> float:
    return statistics.median(r[key] for r in runs)


def report(
    load: dict[str, list[dict[str, float]]],
    low: dict[str, list[dict[str, float]]],
    args: argparse.Namespace,
) -> None:
    print(
        f"wrk -t1 -c{args.connections} -d{args.duration}s, {args.rounds} rounds, medians "
        f"({os.cpu_count()} CPUs shared by wrk, nginx and the gateway)\n"
    )
    ref = med(load["nginx proxy"], "rps")
    print(f"{'set-up':34} {'req/s':>9} {'p50 ms':>8} {'p99 ms':>8} {'vs nginx':>9}")
    for name, runs in load.items():
        rps = med(runs, "rps")
        print(
            f"{name:34} {rps:9.0f} {med(runs, 'p50'):8.2f} {med(runs, 'p99'):8.2f} {rps / ref:9.3f}"
        )
    print("\nlow load (wrk -c1): p99 and what the proxy adds over the upstream itself")
    base = med(low["direct"], "p99")
    for name, runs in low.items():
        p99 = med(runs, "p99")
        added = "" if name == "direct" else f"  added {p99 - base:+.2f} ms"
        print(f"{name:34} p50 {med(runs, 'p50'):6.2f} ms  p99 {p99:6.2f} ms{added}")
    ratio = med(load["apiward gateway"], "rps") / ref
    added_gw = med(low["apiward gateway"], "p99") - base
    verdict = "MET" if ratio >= 0.10 and added_gw < 1.0 else "NOT MET"
    print(
        f"\nbar (>= 0.10 of nginx, < 1 ms added at p99): {verdict} "
        f"(ratio {ratio:.3f}, added {added_gw:.2f} ms)"
    )


if __name__ == "__main__":
    sys.exit(main())
