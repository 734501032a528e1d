"""A hand-built scan result with every kind of content a scan reporter must handle."""

from __future__ import annotations

from pathlib import Path

import pytest

from apiward.core import Evidence, Finding, Location, OperationRef, Owasp, Severity
from apiward.report import ReportOptions
from apiward.scan.check import Check, Phase
from apiward.scan.result import CheckError, ScanResult

NASTY = "evil \x1b[31mred\x1b[0m <script>alert(1)</script> | *bold* [link](http://x) @someone"
SCRIPT = "<script>alert(1)</script>"


async def _noop(ctx: object) -> None:
    return None


def make_check(
    id: str, category: Owasp, severity: Severity, cwe: int = 639, phase: Phase = Phase.READ
) -> Check:
    return Check(
        id,
        f"Title of {id}",
        category,
        cwe,
        severity,
        f"Fix {id} like this.",
        f"What {id} proves.\nIt is wrapped\nlike a docstring.\n\nSecond paragraph.",
        phase,
        _noop,
    )


CHECKS = [
    make_check("bola-read", Owasp.API1, Severity.HIGH),
    make_check("bola-write", Owasp.API1, Severity.CRITICAL),
    make_check("mass-assignment", Owasp.API3, Severity.MEDIUM, cwe=915),
    make_check("security-headers", Owasp.API8, Severity.LOW, cwe=693),
    make_check("verbose-errors", Owasp.API8, Severity.INFO, cwe=209),
    make_check("rate-limit", Owasp.API4, Severity.MEDIUM, cwe=770, phase=Phase.NOISY),
    make_check("account-delete", Owasp.API5, Severity.HIGH, cwe=285, phase=Phase.DESTRUCTIVE),
]


def finding(
    check: Check,
    message: str,
    op: tuple[str, int] | None,
    spec: Path,
    *,
    identity: str | None = "bob",
    evidence: list[Evidence] | None = None,
    key: str = "",
) -> Finding:
    loc = usages = None
    if op is not None:
        pointer = "/paths/" + op[0].split(" ", 1)[1].replace("/", "~1") + "/get"
        loc = Location(str(spec), pointer, op[1], 5)
        usages = [OperationRef(op[0], loc)]
    return Finding(
        rule_id=check.id,
        title=check.title,
        severity=check.severity,
        category=check.category,
        cwe=check.cwe,
        message=message,
        location=loc,
        usages=usages or [],
        remediation=check.remediation,
        confidence="firm",
        evidence=evidence or [],
        curl=f"curl -i -X GET 'http://127.0.0.1:8000/{check.id}' -H 'Authorization: ${{BOB}}'",
        identity=identity,
        key=key,
    )


@pytest.fixture
def scan_dir(tmp_path: Path) -> Path:
    (tmp_path / "openapi.yaml").write_text("openapi: 3.1.0\n")
    return tmp_path


@pytest.fixture
def options(scan_dir: Path) -> ReportOptions:
    return ReportOptions(cwd=str(scan_dir), limit=1)


@pytest.fixture
def result(scan_dir: Path) -> ScanResult:
    return build_result(scan_dir)


def build_result(scan_dir: Path) -> ScanResult:
    """Six findings in API1, API3 and API8 (one API-wide, one nasty), one baselined, a crashed
    check, a skipped one, a warning and a spent budget."""
    spec = scan_dir / "openapi.yaml"
    by_id = {c.id: c for c in CHECKS}
    nasty_evidence = [
        Evidence(
            request="GET /accounts/1001 HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer ***",
            response=f'HTTP/1.1 200\n\n{{"owner": "alice", "note": "{SCRIPT}\x1b[2J"}}',
            note="bob read alice's account",
        ),
        Evidence(note="second call confirmed it"),
    ]
    findings = [
        finding(
            by_id["bola-write"],
            "bob changed alice's account 1001",
            ("PUT /accounts/{id}", 40),
            spec,
        ),
        finding(
            by_id["bola-read"],
            f"bob read alice's account 1001: {NASTY}",
            ("GET /accounts/{id}", 20),
            spec,
            evidence=nasty_evidence,
        ),
        finding(by_id["bola-read"], "bob read alice's card 7", ("GET /cards/{id}", 60), spec),
        finding(
            by_id["mass-assignment"],
            "alice set role=admin on her profile",
            ("PATCH /me", 80),
            spec,
            identity="alice",
        ),
        finding(
            by_id["security-headers"],
            "responses lack Strict-Transport-Security",
            None,
            spec,
            identity=None,
            key="hsts",
        ),
        finding(by_id["verbose-errors"], "a 500 shows a stack trace", ("GET /debug", 99), spec),
    ]
    baselined = [
        finding(by_id["security-headers"], "no X-Content-Type-Options", None, spec, key="nosniff")
    ]
    return ScanResult(
        spec=str(spec),
        title="Demo <Bank>",
        target="http://127.0.0.1:8000",
        identities=["alice", "bob", "admin"],
        checks=CHECKS,
        findings=findings,
        baselined=baselined,
        errors=[CheckError("rate-limit", "RuntimeError: boom \x1b[2J", "Traceback ...\nboom")],
        skipped={"account-delete": "--safe skips destructive checks"},
        warnings=["identity partner: the login answered 401"],
        requests=412,
        duration=12.34,
        budget_exhausted=False,
    )
