"""One proof per runtime manifest entry: run it against a mode, get what was observed.

A proof returns "vulnerable" when it saw the flaw's signal, "secure" when it saw
the fixed behaviour, and "unexpected: ..." for anything else, so each mode has to
show a positive signal (a secure mode answering 500 everywhere does not pass).
"""

from __future__ import annotations

import base64
import secrets
import time
from collections.abc import Callable

from tests.demo.targets import Target

Proof = Callable[[Target], str]
PROOFS: dict[str, Proof] = {}

SECURITY_HEADERS = (
    "x-content-type-options",
    "x-frame-options",
    "content-security-policy",
    "strict-transport-security",
    "cache-control",
)


def proof(entry_id: str) -> Callable[[Proof], Proof]:
    def register(func: Proof) -> Proof:
        assert entry_id not in PROOFS, f"two proofs for {entry_id}"
        PROOFS[entry_id] = func
        return func

    return register


def verdict(vulnerable: bool, secure: bool, detail: object) -> str:
    if vulnerable and not secure:
        return "vulnerable"
    if secure and not vulnerable:
        return "secure"
    return f"unexpected: {detail}"


# ------------------------------------------------------------------ API1


@proof("api1-bola-read-account")
def _(t: Target) -> str:
    r = t.request("GET", "/accounts/3", "alice")
    return verdict(r.status_code == 200 and r.json()["owner_id"] == 2, r.status_code == 404, r.text)


@proof("api1-bola-update-account")
def _(t: Target) -> str:
    r = t.request("PATCH", "/accounts/3", "alice", json={"nickname": "pwned"})
    name = t.request("GET", "/accounts/3", "bob").json()["nickname"]
    return verdict(
        r.status_code == 200 and name == "pwned",
        r.status_code == 404 and name == "checking",
        (r.status_code, name),
    )


@proof("api1-bola-transfer-from-foreign-account")
def _(t: Target) -> str:
    before = t.request("GET", "/accounts/3", "bob").json()["balance"]
    body = {"from_account": 3, "to_account": 1, "amount": 5}
    r = t.request("POST", "/transfers", "alice", json=body)
    after = t.request("GET", "/accounts/3", "bob").json()["balance"]
    return verdict(
        r.status_code == 201 and after == before - 5,
        r.status_code == 404 and after == before,
        (r.status_code, before, after),
    )


# ------------------------------------------------------------------ API2


def _me_as(t: Target, identity: str, username: str) -> str:
    r = t.request("GET", "/users/me", identity)
    return verdict(
        r.status_code == 200 and r.json()["username"] == username,
        r.status_code == 401,
        (r.status_code, r.text),
    )


@proof("api2-jwt-alg-none")
def _(t: Target) -> str:
    return _me_as(t, "alg-none:admin", "admin")


@proof("api2-jwt-weak-secret")
def _(t: Target) -> str:
    return _me_as(t, "weak-secret:admin", "admin")


@proof("api2-jwt-expiry-ignored")
def _(t: Target) -> str:
    return _me_as(t, "expired:alice", "alice")


@proof("api2-login-user-enumeration")
def _(t: Target) -> str:
    unknown = t.request("POST", "/auth/login", json={"username": "nobody-here", "password": "x"})
    wrong = t.request("POST", "/auth/login", json={"username": "bob", "password": "x"})
    seen = ((unknown.status_code, unknown.text), (wrong.status_code, wrong.text))
    return verdict(seen[0] != seen[1], seen[0] == seen[1] and wrong.status_code == 401, seen)


@proof("api2-no-account-lockout")
def _(t: Target) -> str:
    for i in range(6):
        t.request("POST", "/auth/login", json={"username": "bob", "password": f"guess-{i}"})
    password = t.manifest.user("bob").password
    r = t.request("POST", "/auth/login", json={"username": "bob", "password": password})
    return verdict(r.status_code == 200, r.status_code == 429, r.status_code)


@proof("api2-weak-password-policy")
def _(t: Target) -> str:
    body = {"username": "weakling", "email": "weak@demobank.example", "password": "1"}
    r = t.request("POST", "/auth/register", json=body)
    return verdict(r.status_code == 201, r.status_code == 400, r.status_code)


@proof("api2-reset-token-in-response")
def _(t: Target) -> str:
    r = t.request("POST", "/auth/password-reset", json={"email": "bob@demobank.example"})
    token = r.json().get("reset_token")
    taken_over = False
    if token:
        new = {"token": token, "new_password": "Taken-Over-1234"}
        t.request("POST", "/auth/password-reset/confirm", json=new)
        login = {"username": "bob", "password": "Taken-Over-1234"}
        taken_over = t.request("POST", "/auth/login", json=login).status_code == 200
    return verdict(r.status_code == 202 and taken_over, r.status_code == 202 and not token, r.text)


# ------------------------------------------------------------------ API3


@proof("api3-mass-assignment-role")
def _(t: Target) -> str:
    r = t.request("PATCH", "/users/me", "alice", json={"role": "admin"})
    role = t.request("GET", "/users/me", "alice").json()["role"]
    return verdict(
        r.status_code == 200 and role == "admin",
        r.status_code == 400 and role == "user",
        (r.status_code, role),
    )


@proof("api3-mass-assignment-balance")
def _(t: Target) -> str:
    r = t.request("PATCH", "/accounts/1", "alice", json={"nickname": "rich", "balance": 1000000})
    balance = t.request("GET", "/accounts/1", "alice").json()["balance"]
    return verdict(
        r.status_code == 200 and balance == 1000000,
        r.status_code == 400 and balance == 2500,
        (r.status_code, balance),
    )


@proof("api3-excessive-data-exposure")
def _(t: Target) -> str:
    r = t.request("GET", "/users/me", "alice")
    keys = set(r.json())
    return verdict(
        {"password_hash", "ssn"} <= keys,
        r.status_code == 200 and not keys & {"password_hash", "ssn"},
        keys,
    )


# ------------------------------------------------------------------ API4


@proof("api4-no-login-rate-limit")
def _(t: Target) -> str:
    answers = [
        t.request(
            "POST", "/auth/login", json={"username": f"spray-{i}", "password": "Spring2024!!"}
        )
        for i in range(12)
    ]
    limited = [a for a in answers if a.status_code == 429]
    return verdict(
        not limited,
        bool(limited) and all("retry-after" in a.headers for a in limited),
        [a.status_code for a in answers],
    )


@proof("api4-unbounded-page-size")
def _(t: Target) -> str:
    r = t.request("GET", "/transfers", "alice", params={"limit": "1000000"})
    return verdict(
        r.status_code == 200 and r.json()["limit"] == 1000000, r.status_code == 400, r.text[:200]
    )


@proof("api4-no-body-size-limit")
def _(t: Target) -> str:
    r = t.request("PATCH", "/users/me", "alice", json={"display_name": "A" * (1024 * 1024)})
    return verdict(r.status_code == 200, r.status_code == 413, r.status_code)


# ------------------------------------------------------------------ API5


@proof("api5-admin-list-users-as-customer")
def _(t: Target) -> str:
    r = t.request("GET", "/admin/users", "alice")
    return verdict(r.status_code == 200 and len(r.json()) >= 3, r.status_code == 403, r.status_code)


@proof("api5-admin-set-role-as-customer")
def _(t: Target) -> str:
    r = t.request("PUT", "/admin/users/1/role", "alice", json={"role": "admin"})
    role = t.request("GET", "/users/me", "alice").json()["role"]
    return verdict(
        r.status_code == 200 and role == "admin",
        r.status_code == 403 and role == "user",
        (r.status_code, role),
    )


@proof("api5-undocumented-delete-account")
def _(t: Target) -> str:
    r = t.request("DELETE", "/accounts/3", "alice")
    still = t.request("GET", "/accounts/3", "bob").status_code
    return verdict(
        r.status_code == 204 and still == 404,
        r.status_code == 405 and still == 200,
        (r.status_code, still),
    )


# ------------------------------------------------------------------ API6


@proof("api6-signup-automation")
def _(t: Target) -> str:
    codes = [
        t.request(
            "POST",
            "/auth/register",
            json={
                "username": f"bot_{i}",
                "email": f"bot{i}@demobank.example",
                "password": f"Bot-Passw0rd-{i}",
            },
        ).status_code
        for i in range(8)
    ]
    return verdict(codes == [201] * 8, codes == [201] * 3 + [429] * 5, codes)


@proof("api6-transfer-automation")
def _(t: Target) -> str:
    body = {"from_account": 1, "to_account": 3, "amount": 1}
    codes = [t.request("POST", "/transfers", "alice", json=body).status_code for _ in range(8)]
    return verdict(codes == [201] * 8, codes == [201] * 5 + [429] * 3, codes)


# ------------------------------------------------------------------ API7


@proof("api7-ssrf-avatar-import")
def _(t: Target) -> str:
    path = f"/ssrf-avatar-{t.mode}-{secrets.token_hex(4)}"
    r = t.request("POST", "/users/me/avatar/import", "alice", json={"url": t.canary.url + path})
    hits = t.canary.count(path)
    preview = r.json().get("preview", "") if r.status_code == 201 else ""
    return verdict(
        r.status_code == 201
        and hits == 1
        and base64.b64decode(preview) == b"canary-body:" + path.encode(),
        r.status_code == 400 and hits == 0,
        (r.status_code, hits, r.text[:200]),
    )


@proof("api7-ssrf-partner-feed-url")
def _(t: Target) -> str:
    path = f"/ssrf-feed-{t.mode}-{secrets.token_hex(4)}"
    r = t.request(
        "POST",
        "/partner/merchants/sync",
        params={"api_key": t.manifest.partner_api_key},
        json={"feed_url": t.canary.url + path},
    )
    hits = t.canary.count(path)
    return verdict(
        r.status_code == 200 and hits == 1,
        r.status_code == 400 and hits == 0,
        (r.status_code, hits, r.text[:200]),
    )


# ------------------------------------------------------------------ API8


@proof("api8-cors-any-origin-with-credentials")
def _(t: Target) -> str:
    evil = t.request("GET", "/users/me", "alice", headers={"Origin": "https://evil.example"})
    app = t.request("GET", "/users/me", "alice", headers={"Origin": "http://localhost:3000"})
    return verdict(
        evil.headers.get("access-control-allow-origin") == "https://evil.example"
        and evil.headers.get("access-control-allow-credentials") == "true",
        "access-control-allow-origin" not in evil.headers
        and app.headers.get("access-control-allow-origin") == "http://localhost:3000",
        dict(evil.headers),
    )


@proof("api8-stack-trace-in-errors")
def _(t: Target) -> str:
    r = t.request(
        "POST", "/auth/login", content=b"{bad json", headers={"Content-Type": "application/json"}
    )
    traced = "Traceback (most recent call last)" in r.text
    return verdict(
        r.status_code == 500 and traced, r.status_code == 400 and not traced, r.text[:200]
    )


@proof("api8-missing-security-headers")
def _(t: Target) -> str:
    r = t.request("GET", "/users/me", "alice")
    present = [h for h in SECURITY_HEADERS if h in r.headers]
    return verdict(not present, present == list(SECURITY_HEADERS), present)


@proof("api8-server-version-banner")
def _(t: Target) -> str:
    r = t.request("GET", "/openapi.json")
    server, powered = r.headers.get("server", ""), r.headers.get("x-powered-by", "")
    return verdict(
        any(c.isdigit() for c in server) and "/" in powered,
        not server and not powered,
        (server, powered),
    )


@proof("api8-trace-enabled")
def _(t: Target) -> str:
    r = t.request("TRACE", "/users/me", "alice")
    return verdict(
        r.status_code == 200 and "authorization: bearer" in r.text.lower(),
        r.status_code == 405,
        (r.status_code, r.text[:100]),
    )


# ------------------------------------------------------------------ API9


@proof("api9-legacy-v1-users")
def _(t: Target) -> str:
    r = t.request("GET", "/api/v1/users")
    leaked = r.status_code == 200 and all("password_hash" in u for u in r.json()["users"])
    return verdict(leaked, r.status_code == 404, r.status_code)


@proof("api9-debug-endpoint")
def _(t: Target) -> str:
    r = t.request("GET", "/debug")
    leaked = r.status_code == 200 and r.json()["config"]["JWT_SECRET"] == t.manifest.weak_jwt_secret
    return verdict(leaked, r.status_code == 404, r.status_code)


@proof("api9-deprecated-operation-served")
def _(t: Target) -> str:
    r = t.request("GET", "/accounts/1/balance", "alice")
    return verdict(
        r.status_code == 200 and r.json()["balance"] == 2500, r.status_code == 410, r.status_code
    )


# ------------------------------------------------------------------ API10


@proof("api10-partner-feed-trusted")
def _(t: Target) -> str:
    r = t.request(
        "POST",
        "/partner/merchants/sync",
        params={"api_key": t.manifest.partner_api_key},
        json={"feed_url": t.canary.url + "/partner-feed"},
    )
    found = t.request("GET", "/search", params={"q": "canary-"}).json()["items"]
    names = [m["name"] for m in found]
    # the SQL ran: "canary-' || sqlite_version() || '" was stored as e.g. "canary-3.45.1"
    evaluated = any(n.startswith("canary-") and n[7:8].isdigit() for n in names)
    return verdict(
        r.status_code == 200 and evaluated, r.status_code == 502 and not names, (r.text, names)
    )


# ------------------------------------------------------------------ injection


@proof("inj-sqli-search")
def _(t: Target) -> str:
    def search(q: str) -> tuple[int, str, int]:
        r = t.request("GET", "/search", params={"q": q})
        return r.status_code, r.text, len(r.json().get("items", [])) if r.status_code == 200 else -1

    error = search("'")
    true, false = search("zz' OR 1=1 --")[2], search("zz' AND 1=2 --")[2]
    return verdict(
        error[0] == 500 and "OperationalError" in error[1] and true == 8 and false == 0,
        error[0] == 200 and error[2] == 0 and true == 0 and false == 0,
        (error[:2], true, false),
    )


@proof("inj-path-traversal-statements")
def _(t: Target) -> str:
    r = t.request("GET", "/statements/download", "alice", params={"file": "../../../../etc/passwd"})
    own = t.request("GET", "/statements/download", "alice", params={"file": "2024-01.txt"})
    return verdict(
        r.status_code == 200 and "root:x:0:0" in r.text,
        r.status_code == 400 and own.status_code == 200,
        (r.status_code, own.status_code),
    )


@proof("inj-command-injection-ping")
def _(t: Target) -> str:
    marker = f"apiward-{secrets.token_hex(6)}"
    echo = t.request("POST", "/tools/ping", "alice", json={"host": f"127.0.0.1; echo {marker}"})
    start = time.monotonic()
    sleep = t.request("POST", "/tools/ping", "alice", json={"host": "127.0.0.1; sleep 1"})
    elapsed = time.monotonic() - start
    plain = t.request("POST", "/tools/ping", "alice", json={"host": "127.0.0.1"})
    return verdict(
        echo.status_code == 200 and marker in echo.json()["output"] and elapsed >= 0.9,
        echo.status_code == 400
        and sleep.status_code == 400
        and elapsed < 0.9
        and plain.status_code == 200,
        (echo.status_code, echo.text[:200], elapsed),
    )
