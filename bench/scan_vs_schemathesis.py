"""apiward scan vs Schemathesis on the vulnerable demo bank: time, requests, planted flaws found.

    python3 bench/scan_vs_schemathesis.py [--max-examples N] [--variants alice,bob,alice+bob]
                                          [--skip-apiward] [--skip-schemathesis]

Installs (once) Schemathesis SCHEMATHESIS_VERSION into its own venv under bench/.work/ so
its dependencies never touch apiward's. Every tool run scans a FRESH vulnerable demo served
by this process on 127.0.0.1, behind a counting ASGI middleware that counts every HTTP
request the demo receives, the same way for both tools. Wall time is that of the tool's
process, start-up included. Ground truth: the runtime entries of apiward/demo/manifest.yaml.
apiward's findings are matched with ``apiward.demo.match_runtime_entries``; Schemathesis'
failures through ``rules_for`` below, an explicit and deliberately generous mapping: each
rule says whether the failure shows the flaw itself ("direct") or is only a lead a human
would follow up ("generous").

Schemathesis variants, each on its own fresh demo:
  alice      one user: alice's bearer token with -H, the partner API key in its config
  bob        the same as bob
  alice+bob  two users from a Web Fuzzing Commons auth file (Schemathesis logs them in),
             peers = [alice, bob] so that its object_level_authorization check runs

The demo fetches any loopback URL it is given (the SSRF it plants) and a fuzzer generates
URLs: the demo itself refuses every host that is not literally loopback, before any DNS lookup.
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import json
import re
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from starlette.types import ASGIApp, Receive, Scope, Send

from apiward.demo import (
    Entry,
    Settings,
    create_app,
    demo_file,
    load_manifest,
    match_runtime_entries,
    serve_app,
)
from apiward.scan import finding_from_dict

ROOT = Path(__file__).resolve().parent.parent
WORK = ROOT / "bench" / ".work"
SCHEMATHESIS_VERSION = "4.32.5"
ST_VENV = WORK / "schemathesis-venv"
RUNS = WORK / "scan-vs-schemathesis"
EXCLUDED_PATH = "/admin/reset"  # apiward's demo scan config excludes it too: it wipes the data
TOOL_TIMEOUT = 1800.0

# ------------------------------------------------------------------ the demo, counted


class CountingApp:
    """Counts the HTTP requests that reach the app, one per request whatever the answer."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.count = 0
        self.methods: Counter[str] = Counter()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            self.count += 1
            self.methods[scope["method"]] += 1
        await self.app(scope, receive, send)


@contextlib.contextmanager
def fresh_demo() -> Iterator[tuple[str, CountingApp]]:
    """A new vulnerable demo with its seed data, and its request counter."""
    counted = CountingApp(create_app(False, settings=Settings()))
    with serve_app(counted) as url:
        yield url, counted


def login(url: str, username: str, password: str) -> str:
    body = json.dumps({"username": username, "password": password}).encode()
    req = urllib.request.Request(
        f"{url}/auth/login", data=body, headers={"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(req, timeout=10) as resp:
        token: str = json.load(resp)["access_token"]
    return token


# ------------------------------------------------------------------ results


@dataclass
class Outcome:
    """One tool run: its cost, what it reported, and which planted flaws that covers."""

    tool: str
    seconds: float
    requests: int
    reported: int  # apiward: findings; Schemathesis: unique failures, its own count
    found: dict[str, str]  # entry id -> "direct" or "generous"
    exit_code: int
    notes: list[str] = field(default_factory=list)

    @property
    def direct(self) -> int:
        return sum(1 for strength in self.found.values() if strength == "direct")


def timed(cmd: list[str], cwd: Path, log: Path) -> tuple[float, int]:
    """(seconds, exit code) of one process; its output goes to ``log``."""
    start = time.perf_counter()
    with log.open("w") as out:
        proc = subprocess.run(
            cmd, cwd=cwd, stdout=out, stderr=subprocess.STDOUT, timeout=TOOL_TIMEOUT, check=False
        )
    return time.perf_counter() - start, proc.returncode


# ------------------------------------------------------------------ apiward


def run_apiward(entries: list[Entry]) -> Outcome:
    out_dir = RUNS / "apiward"
    out_dir.mkdir(parents=True, exist_ok=True)
    report = out_dir / "report.json"
    report.unlink(missing_ok=True)
    state = Path(tempfile.mkstemp(suffix=".ndjson", dir=out_dir)[1])
    with fresh_demo() as (url, counter):
        before = counter.count
        cmd = [
            sys.executable, "-m", "apiward", "scan", f"{url}/openapi.yaml",
            "--target", url, "--config", demo_file("scan.yaml"),
            "--format", "json", "--output", str(report),
            "--state", str(state), "--fail-on", "none", "--quiet",
        ]  # fmt: skip
        seconds, code = timed(cmd, out_dir, out_dir / "output.txt")
        requests = counter.count - before
        methods = dict(counter.methods.most_common())
    state.unlink(missing_ok=True)
    data = json.loads(report.read_text())
    findings = [finding_from_dict(f) for f in data["findings"]]
    matches = match_runtime_entries(entries, findings)
    found = {m.entry.id: "direct" for m in matches if m.finding is not None}
    outcome = Outcome("apiward scan", seconds, requests, len(findings), found, code)
    outcome.notes.append(
        f"its own count: {data['requests']} requests in {data['duration_s']:.1f}s, "
        f"complete={data['complete']}"
    )
    outcome.notes.append(f"counted by method: {methods}")
    return outcome


# ------------------------------------------------------------------ Schemathesis


def ensure_schemathesis() -> Path:
    binary = ST_VENV / "bin" / "st"
    if not binary.exists():
        subprocess.run([sys.executable, "-m", "venv", str(ST_VENV)], check=True)
        pip = str(ST_VENV / "bin" / "pip")
        subprocess.run([pip, "install", "-q", f"schemathesis=={SCHEMATHESIS_VERSION}"], check=True)
    version = subprocess.run(
        [str(binary), "--version"], capture_output=True, text=True, check=True
    ).stdout
    if SCHEMATHESIS_VERSION not in version:
        raise SystemExit(f"{binary} is {version.strip()}, expected {SCHEMATHESIS_VERSION}")
    return binary


@dataclass(frozen=True)
class Failure:
    """One failed check on one request, from Schemathesis' NDJSON events."""

    check: str
    operation: str  # "METHOD /path" as in the spec
    method: str  # of the request sent: differs from the operation's for unsupported_method
    status: int | None
    message: str
    body: str  # of the response
    sent: dict[str, Any]  # the generated parts of the request: path_parameters, query, body

    @property
    def label(self) -> str:
        sent = f" (sent {self.method})" if self.method != self.operation.split(" ")[0] else ""
        return f"{self.check} on {self.operation}{sent} -> {self.status}"

    def value(self, part: str, name: str) -> str:
        container = self.sent.get(part)
        return str(container.get(name, "")) if isinstance(container, dict) else ""


def read_failures(ndjson: Path) -> list[Failure]:
    failures = []
    for line in ndjson.read_text().splitlines():
        finished = json.loads(line).get("ScenarioFinished")
        if not finished:
            continue
        recorder = finished["recorder"]
        for case_id, checks in recorder.get("checks", {}).items():
            interaction = recorder.get("interactions", {}).get(case_id) or {}
            case = (recorder.get("cases", {}).get(case_id) or {}).get("value") or {}
            response = interaction.get("response") or {}
            for check in checks:
                if check["status"] != "failure":
                    continue
                info = (check.get("failure_info") or {}).get("failure") or {}
                failures.append(
                    Failure(
                        check=check["name"],
                        operation=info.get("operation") or recorder["label"],
                        method=(interaction.get("request") or {}).get("method", ""),
                        status=response.get("status_code"),
                        message=info.get("message", ""),
                        body=_body(response),
                        sent={k: case.get(k) for k in ("path_parameters", "query", "body")},
                    )
                )
    return failures


def _body(response: dict[str, Any]) -> str:
    content = response.get("content") or {}
    if "$base64" in content:
        return base64.b64decode(content["$base64"]).decode("utf-8", "replace")
    return str(content.get("string", ""))


def st_command(binary: Path, url: str, run_dir: Path, max_examples: int) -> list[str]:
    return [
        str(binary), "--config-file", str(run_dir / "schemathesis.toml"), "run",
        f"{url}/openapi.yaml", "--url", url,
        "--checks", "all",
        "--continue-on-failure",
        "--max-examples", str(max_examples),
        "--workers", "auto",
        "--request-timeout", "5",
        "--exclude-path", EXCLUDED_PATH,
        "--seed", "1",
        "--generation-database", "none",
        "--report", "json,ndjson",
        "--report-dir", str(run_dir),
        "--no-color",
    ]  # fmt: skip


def wfc_document(users: dict[str, str]) -> dict[str, Any]:
    """Each user logs in through POST /auth/login; the token goes out as a bearer header."""
    return {
        "auth": [
            {
                "name": name,
                "loginEndpointAuth": {
                    "endpoint": "/auth/login",
                    "verb": "POST",
                    "contentType": "application/json",
                    "payloadUserPwd": {
                        "username": name,
                        "password": password,
                        "usernameField": "username",
                        "passwordField": "password",
                    },
                    "token": {
                        "extractFrom": "body",
                        "extractSelector": "/access_token",
                        "sendIn": "header",
                        "sendName": "Authorization",
                        "sendTemplate": "Bearer {token}",
                    },
                },
            }
            for name, password in users.items()
        ]
    }


def run_schemathesis(
    binary: Path, variant: str, max_examples: int, entries: list[Entry]
) -> Outcome:
    manifest = load_manifest()
    passwords = {u.username: u.password for u in manifest.users}
    users = variant.split("+")
    run_dir = RUNS / f"schemathesis-{variant}"
    # its crash cache (.schemathesis/) would replay the last run's failures first
    shutil.rmtree(run_dir, ignore_errors=True)
    run_dir.mkdir(parents=True)
    with fresh_demo() as (url, counter):
        if len(users) == 1:
            # -H cannot carry the partner operation's API key, which goes in the query
            (run_dir / "schemathesis.toml").write_text(
                f'[auth.openapi.partnerKey]\napi_key = "{manifest.partner_api_key}"\n'
            )
            token = login(url, users[0], passwords[users[0]])
            extra = ["-H", f"Authorization: Bearer {token}"]
        else:
            # [auth.wfc] and [auth.openapi] exclude each other: no partner key here
            wfc = run_dir / "wfc-auth.json"
            wfc.write_text(json.dumps(wfc_document({u: passwords[u] for u in users}), indent=1))
            (run_dir / "schemathesis.toml").write_text(
                f'[auth.wfc]\npath = "{wfc}"\npeers = {json.dumps(users)}\n'
            )
            extra = []
        before = counter.count
        cmd = st_command(binary, url, run_dir, max_examples) + extra
        seconds, code = timed(cmd, run_dir, run_dir / "output.txt")
        requests = counter.count - before
        methods = dict(counter.methods.most_common())
    summary = json.loads(next(run_dir.glob("json-*")).read_text())
    failures = read_failures(next(run_dir.glob("ndjson-*")))
    found, mapped, unmapped = map_failures(failures, entries)
    cases = summary["test_cases"]
    outcome = Outcome(
        f"Schemathesis {variant}", seconds, requests, cases["unique_failures"], found, code
    )
    phases = ", ".join(f"{k} {v['status']}" for k, v in (summary["phases"] or {}).items())
    outcome.notes += [
        f"{cases['generated']} test cases, {len(failures)} failed checks, "
        f"{len({(f.check, f.operation) for f in failures})} distinct (check, operation); "
        f"phases: {phases}",
        f"counted by method: {methods}",
        *(f"  mapped   {m}" for m in mapped),
        *(f"  unmapped {u}" for u in unmapped),
    ]
    return outcome


# ------------------------------------------------------------------ the mapping

TRACEBACK = "Traceback (most recent call last)"
SQL_ERROR = re.compile(r"OperationalError|sqlite|SQL syntax|unrecognized token", re.I)
SHELL_META = re.compile(r"[;|&$`*?<>(){}\\\s'\"]")
SHELL_RAN = re.compile(r"uid=\d+|command not found|sh: ")


@dataclass(frozen=True)
class Rule:
    """A kind of Schemathesis failure that counts as finding one planted flaw."""

    entry: str  # manifest entry id
    strength: str  # "direct": the failure shows the flaw; "generous": a lead to it
    why: str
    applies: Callable[[Failure], bool]


def _number(text: str) -> float:
    try:
        return float(text)
    except ValueError:
        return 0.0


def _check_on(check: str, operations: set[str]) -> Callable[[Failure], bool]:
    return lambda f: f.check == check and f.operation in operations


def _extra_properties(f: Failure) -> bool:
    text = f.message.lower()
    return "unexpected" in text or "additional" in text


def rules_for(entries: list[Entry]) -> list[Rule]:
    """The mapping, generous on purpose; a rule is listed whether or not it can fire here."""
    rules = []
    for e in entries:
        ops = {o for o in (e.operation, *e.also) if o}
        if e.category == "API1":
            rules.append(
                Rule(
                    e.id,
                    "direct",
                    "object_level_authorization on the flaw's operation",
                    _check_on("object_level_authorization", ops),
                )
            )
        if e.category in ("API2", "API5") and ops:
            # API5: if anonymous callers get in, customers do too
            rules.append(
                Rule(
                    e.id,
                    "generous",
                    "ignored_auth on the flaw's operation",
                    _check_on("ignored_auth", ops),
                )
            )
    return [
        *rules,
        Rule(
            "api5-undocumented-delete-account",
            "direct",
            "unsupported_method: DELETE on /accounts/{id} answered 2xx instead of 405",
            lambda f: (
                f.check == "unsupported_method"
                and f.method == "DELETE"
                and f.operation.endswith(" /accounts/{id}")
                and 200 <= (f.status or 0) < 300
            ),
        ),
        Rule(
            "api5-undocumented-delete-account",
            "generous",
            "unsupported_method: DELETE on /accounts/{id} answered anything but 405",
            lambda f: (
                f.check == "unsupported_method"
                and f.method == "DELETE"
                and f.operation.endswith(" /accounts/{id}")
            ),
        ),
        Rule(
            "api8-trace-enabled",
            "direct",
            "unsupported_method: TRACE answered 200",
            lambda f: f.check == "unsupported_method" and f.method == "TRACE" and f.status == 200,
        ),
        Rule(
            "api8-stack-trace-in-errors",
            "direct",
            "any failure whose response carries a Python traceback",
            lambda f: TRACEBACK in f.body,
        ),
        Rule(
            "api2-reset-token-in-response",
            "direct",
            "response_schema_conformance: reset_token in the password-reset answer",
            lambda f: (
                f.check == "response_schema_conformance"
                and f.operation == "POST /auth/password-reset"
                and "reset_token" in f.message
            ),
        ),
        Rule(
            "api2-weak-password-policy",
            "direct",
            "negative_data_rejection: sign-up accepted a password the schema forbids",
            lambda f: (
                f.check == "negative_data_rejection"
                and f.operation == "POST /auth/register"
                and "`minLength` at /properties/password" in f.message
            ),
        ),
        Rule(
            "api3-excessive-data-exposure",
            "direct",
            "response_schema_conformance: password_hash or ssn in a user object "
            "(the spec documents both, so this cannot fire on the demo)",
            lambda f: (
                f.check == "response_schema_conformance"
                and ("password_hash" in f.message or "'ssn'" in f.message)
            ),
        ),
        Rule(
            "inj-path-traversal-statements",
            "direct",
            "a statement download answered with /etc/passwd",
            lambda f: f.operation == "GET /statements/download" and "root:x:0:0" in f.body,
        ),
        Rule(
            "inj-command-injection-ping",
            "direct",
            "the ping output shows the shell ran more than ping",
            lambda f: f.operation == "POST /tools/ping" and bool(SHELL_RAN.search(f.body)),
        ),
        Rule(
            "api2-login-user-enumeration",
            "generous",
            "undocumented 404 'no such user' on login (Schemathesis compares no answers)",
            lambda f: (
                f.operation == "POST /auth/login" and f.status == 404 and "no such user" in f.body
            ),
        ),
        Rule(
            "api4-unbounded-page-size",
            "generous",
            "a failure on GET /transfers answered 2xx to a limit over 1000 (it flags the "
            "echoed value, not the page size)",
            lambda f: (
                f.operation == "GET /transfers"
                and 200 <= (f.status or 0) < 300
                and _number(f.value("query", "limit")) > 1000
            ),
        ),
        Rule(
            "api3-mass-assignment-balance",
            "generous",
            "negative_data_rejection: PATCH /accounts/{id} accepted properties the schema forbids",
            lambda f: (
                f.check == "negative_data_rejection"
                and f.operation == "PATCH /accounts/{id}"
                and _extra_properties(f)
            ),
        ),
        Rule(
            "api3-mass-assignment-role",
            "generous",
            "negative_data_rejection: PATCH /users/me accepted properties the schema forbids "
            "(its schema allows any, so this cannot fire on the demo)",
            lambda f: (
                f.check == "negative_data_rejection"
                and f.operation == "PATCH /users/me"
                and _extra_properties(f)
            ),
        ),
        Rule(
            "api7-ssrf-avatar-import",
            "generous",
            "the answer says the server could not fetch the URL Schemathesis sent",
            lambda f: f.operation == "POST /users/me/avatar/import" and "could not fetch" in f.body,
        ),
        Rule(
            "api7-ssrf-partner-feed-url",
            "generous",
            "the answer says the server could not fetch the feed_url Schemathesis sent",
            lambda f: f.operation == "POST /partner/merchants/sync" and "could not fetch" in f.body,
        ),
        Rule(
            "inj-sqli-search",
            "generous",
            "a 5xx on GET /search whose body is a SQL error (error-based SQLi signal)",
            lambda f: (
                f.operation == "GET /search"
                and (f.status or 0) >= 500
                and bool(SQL_ERROR.search(f.body))
            ),
        ),
        Rule(
            "inj-path-traversal-statements",
            "generous",
            "a statement file name with '..' or '/' (the schema forbids both) answered 200",
            lambda f: (
                f.operation == "GET /statements/download"
                and f.status == 200
                and bool(re.search(r"\.\.|/", f.value("query", "file")))
            ),
        ),
        Rule(
            "inj-command-injection-ping",
            "generous",
            "a ping host with a shell metacharacter (the schema forbids them) answered 200",
            lambda f: (
                f.operation == "POST /tools/ping"
                and f.status == 200
                and bool(SHELL_META.search(f.value("body", "host")))
            ),
        ),
    ]


def map_failures(
    failures: list[Failure], entries: list[Entry]
) -> tuple[dict[str, str], list[str], list[str]]:
    """(entry id -> strongest strength, mapped failure labels, unmapped ones), deduplicated."""
    rules = rules_for(entries)
    found: dict[str, str] = {}
    mapped: dict[str, set[str]] = {}
    unmapped: Counter[str] = Counter()
    for failure in failures:
        hits = [r for r in rules if r.applies(failure)]
        if not hits:
            unmapped[failure.label] += 1
        for rule in hits:
            if found.get(rule.entry) != "direct":
                found[rule.entry] = rule.strength
            mapped.setdefault(failure.label, set()).add(f"{rule.entry} ({rule.strength})")
    return (
        found,
        [f"{label} => {', '.join(sorted(ids))}" for label, ids in sorted(mapped.items())],
        [f"{label} x{n}" for label, n in sorted(unmapped.items())],
    )


# ------------------------------------------------------------------ main


def print_table(outcomes: list[Outcome], entries: list[Entry]) -> None:
    total = len(entries)
    header = (
        f"{'tool':<24} {'seconds':>8} {'requests':>9} {'ground truth':>13} "
        f"{'(direct)':>9} {'reported':>9} {'exit':>5}"
    )
    print(f"\n{header}\n{'-' * len(header)}")
    for o in outcomes:
        truth = f"{len(o.found)} of {total}"
        print(
            f"{o.tool:<24} {o.seconds:8.1f} {o.requests:9d} {truth:>13} "
            f"{o.direct:9d} {o.reported:9d} {o.exit_code:5d}"
        )
    base = next((o for o in outcomes if o.tool == "apiward scan"), None)
    if base is not None:
        for o in outcomes:
            if o is not base:
                print(
                    f"{o.tool}: {o.seconds / base.seconds:.1f}x apiward's time, "
                    f"{o.requests / max(base.requests, 1):.1f}x its requests"
                )
    for o in outcomes:
        found = ", ".join(f"{k} ({v})" for k, v in sorted(o.found.items()))
        missed = [e.id for e in entries if e.id not in o.found]
        print(f"\n== {o.tool}\n   found {len(o.found)}: {found}")
        print(f"   missed {len(missed)}: {', '.join(missed)}")
        for note in o.notes:
            print(f"   {note}")


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--max-examples", type=int, default=50)
    parser.add_argument("--variants", default="alice,bob,alice+bob")
    parser.add_argument("--skip-apiward", action="store_true")
    parser.add_argument("--skip-schemathesis", action="store_true")
    args = parser.parse_args()

    entries = list(load_manifest().runtime)
    outcomes = []
    if not args.skip_apiward:
        outcomes.append(run_apiward(entries))
        print(f"apiward scan: {outcomes[-1].seconds:.1f}s", flush=True)
    if not args.skip_schemathesis:
        binary = ensure_schemathesis()
        for variant in args.variants.split(","):
            outcomes.append(run_schemathesis(binary, variant, args.max_examples, entries))
            print(f"Schemathesis {variant}: {outcomes[-1].seconds:.1f}s", flush=True)
    print_table(outcomes, entries)


if __name__ == "__main__":
    main()
