"""The scan engine: log in, crawl, run the checks phase by phase, keep every finding.

Checks of the READ and WRITE phases run concurrently (the client caps requests
in flight); NOISY and DESTRUCTIVE checks run one at a time, last, so their
bursts and deletions cannot disturb the others. A finding is written to the
state file the moment a check reports it; a check that raises is recorded and
the scan goes on; a spent budget ends the scan with what was found.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import os
import secrets
import time
import traceback
from collections.abc import Callable, Iterable
from typing import IO

from apiward.core import Document, Finding, Location, OperationRef
from apiward.core.baseline import Baseline
from apiward.errors import ApiwardError, InputError
from apiward.scan.canary import Canary
from apiward.scan.check import Check, Issue, Phase
from apiward.scan.context import ScanContext
from apiward.scan.crawl import crawl, log_in
from apiward.scan.http import BudgetExhausted, ScanClient, Secrets
from apiward.scan.identity import identities_from_config
from apiward.scan.links import LinkFollower
from apiward.scan.options import ScanOptions
from apiward.scan.resources import ResourcePool
from apiward.scan.result import CheckError, ScanResult
from apiward.scan.store import StateFile
from apiward.scan.values import ValueGenerator

__all__ = ["Progress", "result_from_state", "run_scan", "scan"]

#: Called as ``progress(event, detail)``: "login", "crawl", "check" (a check id),
#: "finding" (a finding title), "done".
Progress = Callable[[str, str], None]
_EVIDENCE = 3


def scan(
    doc: Document,
    options: ScanOptions,
    *,
    baseline: Baseline | None = None,
    progress: Progress | None = None,
) -> ScanResult:
    """Scan the API at ``options.target`` described by ``doc`` (blocking)."""
    return asyncio.run(run_scan(doc, options, baseline=baseline, progress=progress))


async def run_scan(
    doc: Document,
    options: ScanOptions,
    *,
    baseline: Baseline | None = None,
    progress: Progress | None = None,
) -> ScanResult:
    notify = progress or (lambda event, detail: None)
    checks = options.selected_checks()
    started = time.monotonic()
    spec = doc.uri
    state = StateFile(options.state_file) if options.state_file else None
    carried: list[Finding] = []
    done: set[str] = set()
    if state is not None and options.resume:
        carried, done = state.load(spec=spec, target=options.target)
    result = ScanResult(
        spec=spec,
        title=_title(doc),
        target=options.target,
        identities=[],
        checks=checks,
        findings=[],
        resumed=len(carried),
        started=time.time(),
    )
    found: dict[str, Finding] = {f.fingerprint: f for f in carried}
    hidden = Secrets()
    with contextlib.ExitStack() as stack:
        log: IO[str] | None = None
        if options.request_log:
            try:
                log = stack.enter_context(open(options.request_log, "w", encoding="utf-8"))
            except OSError as exc:
                raise InputError(
                    f"cannot write the request log: {exc.strerror or exc}", file=options.request_log
                ) from None
        canary = stack.enter_context(Canary()) if options.canary else None
        client = ScanClient(
            options.target, budget=options.budget, concurrency=options.concurrency,
            timeout=options.timeout, rate=options.rate, log=log, secrets=hidden,
        )  # fmt: skip

        def report(check: Check, issue: Issue) -> None:
            finding = _finding(doc, check, issue, options)
            if finding.fingerprint in found:
                return
            found[finding.fingerprint] = finding
            if state is not None:
                state.finding(finding)
            notify("finding", finding.title)

        ctx = ScanContext(
            doc=doc, options=options, client=client,
            identities=identities_from_config(options.identities), pool=ResourcePool(),
            # a fresh seed per scan: names made up for sign-ups must not collide with the last run's
            values=ValueGenerator(doc, seed=secrets.randbits(32)), canary=canary,
            report_issue=report, links=LinkFollower(doc, options.target),
        )  # fmt: skip
        result.identities = [i.name for i in ctx.identities]
        try:
            await _reachable(client)
            if state is not None:  # only now: a mistyped target must not wipe the last state
                state.open(append=options.resume, spec=spec, target=options.target)
                stack.callback(state.close)
            notify("login", ", ".join(result.identities))
            result.warnings += await log_in(ctx)
            notify("crawl", "")
            await crawl(ctx)
            result.warnings += _unrecognised_identities(ctx)
            await _run_checks(ctx, [c for c in checks if c.id not in done], result, state, notify)
        except BudgetExhausted:
            result.budget_exhausted = True
        finally:
            await client.aclose()
    result.requests = client.sent
    result.duration = time.monotonic() - started
    result.findings, result.baselined = _split(found.values(), baseline, spec)
    notify("done", "")
    return result


def _unrecognised_identities(ctx: ScanContext) -> list[str]:
    """Identities whose credentials every protected operation refused during the crawl."""
    protected = {op.key for op in ctx.doc.operations if op.requires_auth}
    out = []
    for ident in ctx.authenticated():
        tried = [
            ex for (key, name), ex in ctx.seen.items() if name == ident.name and key in protected
        ]
        # 401/403 only: any other answer (a 404, a 502) means the credentials got through
        if tried and all(ex.status in (401, 403) for ex in tried):
            statuses = sorted({ex.status for ex in tried})
            out.append(
                f"identity {ident.name}: all {len(tried)} protected operations tried refused its "
                f"credentials (status {', '.join(map(str, statuses))}); checks that need it "
                "found nothing. Are its token or headers right?"
            )
    return out


def result_from_state(
    doc: Document, options: ScanOptions, *, baseline: Baseline | None = None
) -> ScanResult:
    """The result recorded in ``options.state_file``, without sending a request.

    For a second report of a scan that already ran (a Markdown summary beside the SARIF
    upload, say): the findings are those the state file holds.
    """
    if options.state_file is None:
        raise InputError("no state file to report from")
    if not os.path.exists(options.state_file):
        raise InputError("no scan state here: run the scan first", file=options.state_file)
    findings, done = StateFile(options.state_file).load(spec=doc.uri, target=options.target)
    unique = {f.fingerprint: f for f in findings}
    reported, baselined = _split(unique.values(), baseline, doc.uri)
    checks = [c for c in options.selected_checks() if c.id in done]
    return ScanResult(
        spec=doc.uri, title=_title(doc), target=options.target, identities=[], checks=checks,
        findings=reported, baselined=baselined, resumed=len(unique),
        warnings=[f"reported from {options.state_file}; no request was sent"],
    )  # fmt: skip


def _title(doc: Document) -> str:
    info = doc.raw.get("info")
    return str(info.get("title", "")) if isinstance(info, dict) else ""


def _split(
    findings: Iterable[Finding], baseline: Baseline | None, spec: str
) -> tuple[list[Finding], list[Finding]]:
    """Findings worst first, as (reported, set aside by the baseline)."""
    accepted = baseline.fingerprints(spec) if baseline is not None else frozenset()
    ordered = sorted(findings, key=lambda f: (-f.severity.rank, f.rule_id, f.message))
    return (
        [f for f in ordered if f.fingerprint not in accepted],
        [f for f in ordered if f.fingerprint in accepted],
    )


async def _reachable(client: ScanClient) -> None:
    """Fail fast, with the reason, when nothing answers at the target."""
    probe = await client.send("GET", "/")
    if probe.status == 0:
        raise InputError(f"cannot reach the target {client.base_url}: {probe.error}")


async def _run_checks(
    ctx: ScanContext,
    checks: list[Check],
    result: ScanResult,
    state: StateFile | None,
    notify: Progress,
) -> None:
    async def one(check: Check) -> None:
        notify("check", check.id)
        try:
            await check(dataclasses.replace(ctx, current=check))
        except BudgetExhausted:
            raise
        except ApiwardError as exc:
            result.errors.append(CheckError(check.id, str(exc)))
            return
        except Exception as exc:
            result.errors.append(
                CheckError(check.id, f"{type(exc).__name__}: {exc}", traceback.format_exc())
            )
            return
        if state is not None:
            state.done(check.id)

    for phase in Phase:
        batch = [c for c in checks if c.phase is phase]
        if phase in (Phase.READ, Phase.WRITE):
            await asyncio.gather(*(one(c) for c in batch))
        else:
            for c in batch:
                await one(c)


def _finding(doc: Document, check: Check, issue: Issue, options: ScanOptions) -> Finding:
    location: Location | None = None
    usages: list[OperationRef] = []
    if issue.operation is not None:
        location = doc.locate(issue.operation.location)
        usages = [OperationRef(issue.operation.key, location)]
    key = issue.key or (issue.path or "") or ("" if issue.operation else issue.message)
    exchanges = issue.exchanges[:_EVIDENCE]
    return Finding(
        rule_id=check.id,
        title=check.title,
        severity=issue.severity or options.severities.get(check.id, check.severity),
        category=check.category,
        cwe=check.cwe,
        message=issue.message,
        location=location,
        usages=usages,
        remediation=check.remediation,
        confidence=issue.confidence,
        evidence=[
            e.evidence(note)
            for e, note in zip(exchanges, _notes(issue, len(exchanges)), strict=True)
        ],
        curl=issue.exchanges[0].curl() if issue.exchanges else None,
        identity=issue.identity,
        key=f"{key}",
    )


def _notes(issue: Issue, count: int) -> list[str | None]:
    notes: list[str | None] = list(issue.notes[:count])
    return notes + [None] * (count - len(notes))
