"""The audit engine: run the rules over a document and turn their hits into findings.

One pass per rule; hits of a rule at one location merge into one finding whose
usages are the operations that use that location. A rule that raises is recorded
in :attr:`AuditResult.rule_errors` and the audit goes on. Then ``x-apiward-ignore``
and the baseline set findings aside, positions are looked up (once per location)
and the score is computed. Cost: O(hits + usages) beyond the rules themselves.
"""

from __future__ import annotations

import time
import traceback
from collections.abc import Iterable
from typing import Any

from apiward.audit.options import AuditConfig
from apiward.audit.result import AuditResult, RuleError, Suppressed
from apiward.audit.rule import RULES, Hit, Rule
from apiward.audit.score import compute_score
from apiward.audit.suppress import Ignores
from apiward.core import Document, Finding, Location, OperationRef
from apiward.errors import InputError

__all__ = ["LOCATED_USAGES", "audit"]

# Usages beyond this many keep no line/column: reporters show (and SARIF relates) at most these.
LOCATED_USAGES = 10
_MAX_MESSAGES = 3


def audit(doc: Document, config: AuditConfig | None = None) -> AuditResult:
    """Audit ``doc`` with the rules ``config`` selects (all of them by default).

    Raises :class:`~apiward.errors.InputError` when the document cannot be
    walked at all, and :class:`~apiward.errors.UsageError` for an unknown rule id.
    """
    config = config or AuditConfig()
    rules = config.selected_rules()
    # Build the shared indexes once, outside any rule: a document too large to
    # index is an input error, not a failure of whichever rule came first.
    operations = len(doc.operations)
    _ = doc.schema_index

    findings: list[Finding] = []
    errors: list[RuleError] = []
    timings: dict[str, float] = {}
    for rule in rules:
        start = time.perf_counter()
        try:
            findings.extend(_findings(rule, rule(doc), doc))
        except InputError as exc:
            errors.append(RuleError(rule.id, str(exc), internal=False))
        except Exception as exc:
            errors.append(
                RuleError(
                    rule.id,
                    f"{type(exc).__name__}: {exc}",
                    internal=True,
                    traceback=traceback.format_exc(),
                )
            )
        timings[rule.id] = time.perf_counter() - start

    ignores = Ignores.scan(doc, RULES.names())
    kept: list[Finding] = []
    suppressed: list[Suppressed] = []
    for f in findings:
        where = ignores.match(f)
        if where is None:
            kept.append(f)
        else:
            suppressed.append(Suppressed(f, "ignore", where))

    locator = _Locator(doc)
    for f in (*kept, *(s.finding for s in suppressed)):
        locator.locate_finding(f)
    score = compute_score(kept, rules)

    reported, baseline_fixed = kept, 0
    if config.baseline is not None:
        reported = [f for f in kept if f.fingerprint not in config.baseline]
        suppressed += [Suppressed(f, "baseline") for f in kept if f.fingerprint in config.baseline]
        baseline_fixed = len(config.baseline - {f.fingerprint for f in kept})
    reported.sort(key=_order)

    info = doc.raw.get("info")
    title = info.get("title") if isinstance(info, dict) else None
    return AuditResult(
        spec=doc.uri,
        title=title if isinstance(title, str) else "",
        version=doc.version,
        operations=operations,
        rules=rules,
        findings=reported,
        score=score,
        suppressed=suppressed,
        rule_errors=errors,
        warnings=ignores.warnings + locator.warnings,
        timings=timings,
        baseline_fixed=baseline_fixed,
    )


def _findings(rule: Rule, hits: Iterable[Hit], doc: Document) -> list[Finding]:
    """Merge a rule's hits by location into findings (hits are consumed here: a rule
    that raises half-way contributes nothing)."""
    merged: dict[Location, tuple[list[str], dict[str, OperationRef] | None]] = {}
    for hit in hits:
        messages, usages = merged.setdefault(hit.location, ([], None))
        if hit.message not in messages:
            messages.append(hit.message)
        if hit.usages is not None:
            if usages is None:
                usages = {}
                merged[hit.location] = (messages, usages)
            for ref in hit.usages:
                usages.setdefault(ref.key, ref)
    out = []
    for loc, (messages, usages) in merged.items():
        extra = len(messages) - _MAX_MESSAGES
        message = "; ".join(messages[:_MAX_MESSAGES]) + (
            f" (and {extra} more)" if extra > 0 else ""
        )
        out.append(
            Finding(
                rule_id=rule.id,
                title=rule.title,
                severity=rule.severity,
                category=rule.category,
                cwe=rule.cwe,
                message=message,
                location=loc,
                usages=list(usages.values()) if usages is not None else list(doc.usages(loc)),
                remediation=rule.remediation,
            )
        )
    return _fold_repeats(out)


def _fold_repeats(findings: list[Finding]) -> list[Finding]:
    """One finding for a problem written out again in many operations.

    Inline definitions repeated per operation (the same query parameter, the same
    server in every operation of a converted Swagger 2.0 document) give the same
    message at many places under ``/paths``; they are one root cause to a reader.
    The first place stays the location; the operations of all are its usages.
    """
    first: dict[str, Finding] = {}
    out: list[Finding] = []
    for f in findings:
        if f.location is None or not f.location.pointer.startswith("/paths/"):
            out.append(f)
            continue
        kept = first.get(f.message)
        if kept is None:
            first[f.message] = f
            out.append(f)
            continue
        known = {u.key for u in kept.usages}
        kept.usages.extend(u for u in f.usages if u.key not in known)
    return out


def _order(f: Finding) -> tuple[Any, ...]:
    loc = f.location
    return (
        -f.severity.rank,
        loc.file if loc else "",
        loc.line if loc and loc.line is not None else 0,
        loc.pointer if loc else "",
        f.rule_id,
    )


class _Locator:
    """Line/column for locations, each looked up once per audit."""

    def __init__(self, doc: Document) -> None:
        self._doc = doc
        self._cache: dict[Location, Location] = {}
        self.warnings: list[str] = []

    def locate(self, loc: Location) -> Location:
        found = self._cache.get(loc)
        if found is None:
            try:
                found = self._doc.locate(loc)
            except Exception as exc:
                # positions only decorate a finding: never lose the audit over one
                if not self.warnings:
                    self.warnings.append(f"could not compute line numbers: {exc}")
                found = loc
            self._cache[loc] = found
        return found

    def locate_finding(self, f: Finding) -> None:
        if f.location is not None:
            f.location = self.locate(f.location)
        for i, ref in enumerate(f.usages[:LOCATED_USAGES]):
            f.usages[i] = OperationRef(ref.key, self.locate(ref.location))
