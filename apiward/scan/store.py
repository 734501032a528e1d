"""The scan's state file: each finding written the moment it is made, and each check done.

An NDJSON file, one record a line, flushed after every write, so a scan that
crashes or is killed keeps everything found so far; ``--resume`` reads it back
and skips the checks it lists as done::

    {"type": "start", "spec": "openapi.yaml", "target": "http://127.0.0.1:8000"}
    {"type": "finding", "finding": {...}}
    {"type": "done", "check": "bola-read"}
"""

from __future__ import annotations

import json
import os
from typing import IO, Any

from apiward.core import Evidence, Finding, Location, OperationRef, Owasp, Severity
from apiward.errors import InputError

__all__ = ["StateFile", "finding_from_dict", "finding_to_dict"]


def _location(loc: Location | None) -> dict[str, Any] | None:
    if loc is None:
        return None
    return {"file": loc.file, "pointer": loc.pointer, "line": loc.line, "column": loc.column}


def _location_back(data: Any) -> Location | None:
    if not isinstance(data, dict):
        return None
    return Location(str(data["file"]), str(data["pointer"]), data.get("line"), data.get("column"))


def finding_to_dict(f: Finding) -> dict[str, Any]:
    """A finding as plain JSON data (what the state file and the JSON report hold)."""
    return {
        "check": f.rule_id,
        "title": f.title,
        "severity": f.severity.value,
        "confidence": f.confidence,
        "category": f.category.value,
        "cwe": f.cwe,
        "message": f.message,
        "identity": f.identity,
        "key": f.key,
        "fingerprint": f.fingerprint,
        "location": _location(f.location),
        "operations": [{"key": u.key, "location": _location(u.location)} for u in f.usages],
        "remediation": f.remediation,
        "evidence": [
            {"request": e.request, "response": e.response, "note": e.note} for e in f.evidence
        ],
        "curl": f.curl,
    }


def finding_from_dict(data: dict[str, Any]) -> Finding:
    usages = []
    for u in data.get("operations", []):
        loc = _location_back(u.get("location"))
        if loc is not None:
            usages.append(OperationRef(str(u["key"]), loc))
    return Finding(
        rule_id=str(data["check"]),
        title=str(data["title"]),
        severity=Severity(data["severity"]),
        category=Owasp(data["category"]),
        cwe=int(data["cwe"]),
        message=str(data["message"]),
        location=_location_back(data.get("location")),
        usages=usages,
        remediation=str(data.get("remediation", "")),
        confidence=str(data.get("confidence", "firm")),
        evidence=[
            Evidence(e.get("request"), e.get("response"), e.get("note"))
            for e in data.get("evidence", [])
        ],
        curl=data.get("curl"),
        identity=data.get("identity"),
        key=str(data.get("key", "")),
    )


class StateFile:
    """Appends records to ``path``; :meth:`load` reads a previous run's records."""

    def __init__(self, path: str) -> None:
        self.path = path
        self._fh: IO[str] | None = None

    def open(self, *, append: bool, spec: str, target: str) -> None:
        directory = os.path.dirname(self.path)
        try:
            if directory:
                os.makedirs(directory, exist_ok=True)
            self._fh = open(self.path, "a" if append else "w", encoding="utf-8")  # noqa: SIM115
        except OSError as exc:
            raise InputError(
                f"cannot write the scan state: {exc.strerror or exc}", file=self.path
            ) from None
        self._write({"type": "start", "spec": spec, "target": target})

    def close(self) -> None:
        if self._fh is not None:
            self._fh.close()
            self._fh = None

    def finding(self, finding: Finding) -> None:
        self._write({"type": "finding", "finding": finding_to_dict(finding)})

    def done(self, check_id: str) -> None:
        self._write({"type": "done", "check": check_id})

    def _write(self, record: dict[str, Any]) -> None:
        if self._fh is not None:
            self._fh.write(json.dumps(record, ensure_ascii=False) + "\n")
            self._fh.flush()

    def load(self, *, spec: str, target: str) -> tuple[list[Finding], set[str]]:
        """Findings and finished checks of the run recorded in the file (for ``--resume``).

        A missing file is an empty state; a line that does not parse (the crash cut it)
        is skipped; a file of another spec or target is refused.
        """
        findings: list[Finding] = []
        done: set[str] = set()
        try:
            with open(self.path, encoding="utf-8") as fh:
                lines = fh.readlines()
        except FileNotFoundError:
            return findings, done
        except (OSError, UnicodeDecodeError) as exc:
            raise InputError(f"cannot read the scan state: {exc}", file=self.path) from None
        for number, line in enumerate(lines, 1):
            try:
                record = json.loads(line)
                kind = record["type"]
                if kind == "start" and (record["spec"], record["target"]) != (spec, target):
                    raise InputError(
                        f"this state is of a scan of {record['spec']} at {record['target']}; "
                        "delete it or scan that again",
                        file=self.path,
                        line=number,
                    )
                if kind == "finding":
                    findings.append(finding_from_dict(record["finding"]))
                elif kind == "done":
                    done.add(str(record["check"]))
            except (ValueError, KeyError, TypeError):
                continue
        return findings, done
