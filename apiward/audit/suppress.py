"""``x-apiward-ignore``: silence rules for a part of the document, in the document.

``x-apiward-ignore: [rule-id, ...]`` (or one id as a string, or ``"*"`` for every
rule) on any mapping of the spec suppresses those rules for findings located at
that node or below it. On the root it applies to the whole document::

    components:
      schemas:
        Legacy:
          x-apiward-ignore: [string-limit]   # reviewed: internal, bounded upstream
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from apiward.core import Document, Finding
from apiward.core import pointer as jp

__all__ = ["IGNORE_KEY", "Ignores"]

IGNORE_KEY = "x-apiward-ignore"
ALL = "*"


class Ignores:
    """Where ``x-apiward-ignore`` sits in a document, and which rules it names."""

    def __init__(self, nodes: dict[tuple[str, str], frozenset[str]], warnings: list[str]) -> None:
        self.nodes = nodes
        self.warnings = warnings

    @classmethod
    def scan(cls, doc: Document, known: Collection[str]) -> Ignores:
        """Collect every ``x-apiward-ignore`` in the files the document was read from.

        Files whose text does not contain the key are skipped without a walk, so
        the common case costs one substring search per file.
        """
        nodes: dict[tuple[str, str], frozenset[str]] = {}
        warnings: list[str] = []
        for uri, source in list(doc.sources.items()):
            if IGNORE_KEY not in source.text:
                continue
            data = doc.raw if uri == doc.uri else source.data
            for pointer, value in _walk(data):
                ids = _rule_ids(value)
                where = f"{uri}#{pointer or '/'}"
                if ids is None:
                    warnings.append(f"{where}: {IGNORE_KEY} must be a list of rule ids; ignored")
                    continue
                for rule_id in sorted(ids - set(known) - {ALL}):
                    warnings.append(f"{where}: {IGNORE_KEY} names unknown rule {rule_id!r}")
                nodes[(uri, pointer)] = ids
        return cls(nodes, warnings)

    def match(self, finding: Finding) -> str | None:
        """The pointer of the node that suppresses ``finding``, or None."""
        if not self.nodes or finding.location is None:
            return None
        file = finding.location.file
        tokens = jp.split(finding.location.pointer)
        for n in range(len(tokens), -1, -1):
            pointer = jp.join("", *tokens[:n])
            ids = self.nodes.get((file, pointer))
            if ids is not None and (finding.rule_id in ids or ALL in ids):
                return pointer or "/"
        return None


def _rule_ids(value: Any) -> frozenset[str] | None:
    if isinstance(value, str):
        return frozenset({value.strip()})
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return frozenset(v.strip() for v in value)
    return None


def _walk(data: Any) -> list[tuple[str, Any]]:
    """(pointer, value) of each ``x-apiward-ignore`` under ``data``, iteratively."""
    found: list[tuple[str, Any]] = []
    stack: list[tuple[Any, str]] = [(data, "")]
    seen: set[int] = set()
    while stack:
        node, pointer = stack.pop()
        if isinstance(node, dict):
            # YAML aliases share objects: walk each one once
            if id(node) in seen:
                continue
            seen.add(id(node))
            if IGNORE_KEY in node:
                found.append((pointer, node[IGNORE_KEY]))
            stack.extend(
                (v, jp.join(pointer, k))
                for k, v in node.items()
                if isinstance(v, dict | list) and k != IGNORE_KEY
            )
        elif isinstance(node, list):
            if id(node) in seen:
                continue
            seen.add(id(node))
            stack.extend(
                (v, jp.join(pointer, i)) for i, v in enumerate(node) if isinstance(v, dict | list)
            )
    return found
