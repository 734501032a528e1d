"""Baselines: the findings a project has accepted, so CI fails only on new ones.

A baseline is a JSON file listing findings by :attr:`Finding.fingerprint` (rule id
+ JSON pointer: stable when lines move), with the rule, pointer and message for
the humans reviewing it. Each entry names its spec by path relative to the
baseline file, so one baseline serves several specs and survives a change of
working directory::

    {"version": 1, "tool": "apiward", "findings": [
      {"spec": "api/petstore.yaml", "fingerprint": "3f0c...", "rule": "string-limit",
       "pointer": "/components/schemas/Pet/properties/name", "message": "..."}]}

An entry without ``spec`` applies to every spec.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable
from dataclasses import dataclass, field

from apiward.core import Finding
from apiward.errors import InputError

__all__ = ["BASELINE_VERSION", "Baseline", "spec_key", "write_baseline"]

BASELINE_VERSION = 1


def spec_key(spec: str, baseline_path: str) -> str:
    """How a baseline names ``spec``: its path relative to the baseline's directory."""
    if spec.startswith(("http://", "https://", "<")):
        return spec
    base = os.path.dirname(os.path.abspath(baseline_path))
    return os.path.relpath(os.path.abspath(spec), base).replace(os.sep, "/")


@dataclass(slots=True)
class Baseline:
    """Accepted fingerprints per spec key (``None``: entries for any spec)."""

    path: str
    entries: dict[str | None, set[str]] = field(default_factory=dict)

    def fingerprints(self, spec: str) -> frozenset[str]:
        """The accepted fingerprints for ``spec`` (a path as given on the command line)."""
        key = spec_key(spec, self.path)
        return frozenset(self.entries.get(key, set()) | self.entries.get(None, set()))

    @classmethod
    def load(cls, path: str) -> Baseline:
        """Read a baseline file. Raises :class:`InputError` naming the file."""
        try:
            with open(path, encoding="utf-8") as fh:
                data = json.load(fh)
        except FileNotFoundError:
            raise InputError(
                "baseline file not found (create it with --write-baseline)", file=path
            ) from None
        except OSError as exc:
            raise InputError(f"cannot read baseline: {exc.strerror or exc}", file=path) from None
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise InputError(f"baseline is not valid JSON: {exc}", file=path) from None
        findings = data.get("findings") if isinstance(data, dict) else None
        if not isinstance(findings, list):
            raise InputError("not an apiward baseline: no 'findings' list", file=path)
        baseline = cls(path)
        for i, entry in enumerate(findings):
            fp = entry.get("fingerprint") if isinstance(entry, dict) else None
            if not isinstance(fp, str):
                raise InputError(
                    f"entry {i} has no 'fingerprint' string", file=path, pointer=f"/findings/{i}"
                )
            spec = entry.get("spec")
            baseline.entries.setdefault(spec if isinstance(spec, str) else None, set()).add(fp)
        return baseline


def write_baseline(path: str, specs: Iterable[tuple[str, Iterable[Finding]]]) -> int:
    """Write the findings of each ``(spec, findings)`` as a baseline; returns the entry count.

    Entries are sorted, so a baseline under version control changes only where
    findings do.
    """
    entries = []
    for spec, findings in specs:
        key = spec_key(spec, path)
        seen: set[str] = set()
        for f in findings:
            if f.fingerprint in seen:
                continue
            seen.add(f.fingerprint)
            entries.append(
                {
                    "spec": key,
                    "fingerprint": f.fingerprint,
                    "rule": f.rule_id,
                    "pointer": f.location.pointer if f.location is not None else "",
                    "message": f.message,
                }
            )
    entries.sort(key=lambda e: (e["spec"], e["rule"], e["pointer"], e["fingerprint"]))
    doc = {"version": BASELINE_VERSION, "tool": "apiward", "findings": entries}
    try:
        with open(path, "w", encoding="utf-8") as fh:
            json.dump(doc, fh, indent=2, ensure_ascii=False)
            fh.write("\n")
    except OSError as exc:
        raise InputError(f"cannot write baseline: {exc.strerror or exc}", file=path) from None
    return len(entries)
