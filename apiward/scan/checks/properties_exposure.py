"""API3 excessive data exposure: answers that carry more than the client should see.

Two kinds of excess, read from answers the scan already has (the crawl's, of
every identity): secrets and personal data (password hashes, SSNs, card
numbers, tokens, keys), and fields the response schema does not declare. A
login's token and what an answer echoes from its own request are the point of
the answer, not an exposure.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from apiward.core import Operation, Owasp, Severity
from apiward.scan.check import Issue, check
from apiward.scan.context import ScanContext
from apiward.scan.detect import sensitive_values
from apiward.scan.http import Exchange
from apiward.scan.values import response_schema

_MAX_LEAVES = 2000
_MAX_SHOWN = 8
_MAX_DEPTH = 8
_TOKEN_KINDS = frozenset({"token", "jwt", "api-key"})


@dataclass(slots=True)
class _Seen:
    """What one operation's answers exposed, over every identity."""

    sensitive: dict[str, str] = field(default_factory=dict)  # path -> kind
    undeclared: dict[str, bool] = field(default_factory=dict)  # path -> schema was closed
    evidence: list[Exchange] = field(default_factory=list)
    identities: list[str] = field(default_factory=list)


def _request_values(answer: Exchange) -> set[str]:
    """The strings the request sent: an answer echoing them discloses nothing new."""
    try:
        data = json.loads(answer.request_body or b"")
    except ValueError:
        return set()
    out: set[str] = set()
    stack = [data]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)
        elif isinstance(node, str | int | float) and not isinstance(node, bool):
            out.add(str(node))
    return out


def _leaves(data: Any) -> list[tuple[str, str, Any]]:
    """(path, key, value) of the scalar leaves; array items share one ``[]`` path."""
    out: list[tuple[str, str, Any]] = []
    stack: list[tuple[str, str, Any, int]] = [("", "", data, 0)]
    seen_paths: set[str] = set()
    while stack and len(out) < _MAX_LEAVES:
        path, key, node, depth = stack.pop()
        if depth > _MAX_DEPTH:
            continue
        if isinstance(node, dict):
            for k, v in node.items():
                stack.append((f"{path}.{k}" if path else str(k), str(k), v, depth + 1))
        elif isinstance(node, list):
            stack.extend((f"{path}[]", key, item, depth + 1) for item in node[:100])
        elif (
            node is not None and not isinstance(node, bool) and key
            and (path not in seen_paths or isinstance(node, str))
        ):  # fmt: skip
            seen_paths.add(path)
            out.append((path, key, node))
    return out


def _sensitive(ctx: ScanContext, op: Operation, answer: Exchange, data: Any) -> dict[str, str]:
    token_op = ctx.sensitivity(op).auth_flow or ctx.is_login_operation(op)
    echoed = _request_values(answer)
    own_tokens = {i.token for i in ctx.identities if i.token}
    found: dict[str, str] = {}
    for path, key, value in _leaves(data):
        if path in found or str(value) in echoed or value in own_tokens:
            continue
        for kind, _excerpt in sensitive_values(json.dumps({key: value})):
            if token_op and kind in _TOKEN_KINDS:
                continue  # issuing tokens is what login and token operations are for
            found[path] = kind
            break
    return found


def _undeclared(schema: Any, data: Any, path: str = "", depth: int = 0) -> dict[str, bool]:
    """Fields of ``data`` that ``schema`` does not list (path -> whether it was closed)."""
    if not isinstance(schema, dict) or depth > _MAX_DEPTH:
        return {}
    if any(k in schema for k in ("oneOf", "anyOf", "not", "if")):
        return {}  # alternatives: which one applies is not ours to guess
    out: dict[str, bool] = {}
    if isinstance(data, list):
        items = schema.get("items")
        for item in data[:20]:
            out.update(_undeclared(items, item, f"{path}[]", depth + 1))
        return out
    if not isinstance(data, dict):
        return {}
    props = schema.get("properties")
    extra = schema.get("additionalProperties")
    for key, value in data.items():
        where = f"{path}.{key}" if path else str(key)
        if isinstance(props, dict) and key in props:
            out.update(_undeclared(props[key], value, where, depth + 1))
        elif isinstance(extra, dict):
            out.update(_undeclared(extra, value, where, depth + 1))
        elif (
            isinstance(props, dict)
            and props
            and extra is not True
            and not any(k in schema for k in ("patternProperties", "unevaluatedProperties"))
        ):
            out[where] = extra is False
    return out


def _shown(paths: list[str]) -> str:
    more = len(paths) - _MAX_SHOWN
    return ", ".join(paths[:_MAX_SHOWN]) + (f" and {more} more" if more > 0 else "")


@check(
    "excessive-data-exposure",
    title="Answers expose sensitive or undocumented data",
    category=Owasp.API3,
    cwe=213,
    severity=Severity.HIGH,
    remediation=(
        "Serialise responses through an explicit output model per operation: list the "
        "fields each client needs, never return a stored record whole, and keep secrets "
        "(password hashes, tokens, full SSNs and card numbers) out of every answer."
    ),
)
async def excessive_data_exposure(ctx: ScanContext) -> None:
    """Reads every answer the crawl collected (of every identity) for excess data.

    Fires, once per operation, on fields holding secrets or personal data
    (password hashes, SSNs, card numbers, private keys, API keys, tokens) and on
    fields the operation's response schema does not declare (when it lists its
    properties). Tokens issued by login and token operations and values the
    answer echoes from its own request are not counted. Sends no request.
    """
    by_op: dict[str, tuple[Operation, _Seen]] = {}
    ops = {op.key: op for op in ctx.doc.operations}
    for (key, who), answer in sorted(ctx.seen.items()):
        op = ops.get(key)
        data = answer.json() if answer.ok else None
        if op is None or data is None:
            continue
        sensitive = _sensitive(ctx, op, answer, data)
        schema = response_schema(ctx.doc, op, answer.status)
        undeclared = _undeclared(schema, data) if schema else {}
        if not sensitive and not undeclared:
            continue
        _op, seen = by_op.setdefault(key, (op, _Seen()))
        if sensitive and not seen.sensitive:
            seen.evidence.insert(0, answer)
        elif len(seen.evidence) < 2:
            seen.evidence.append(answer)
        seen.sensitive.update(sensitive)
        seen.undeclared.update(undeclared)
        seen.identities.append(who)
    for op, seen in by_op.values():
        ctx.report(_issue(op, seen))


def _issue(op: Operation, seen: _Seen) -> Issue:
    parts = []
    if seen.sensitive:
        shown = [f"{p} ({k})" for p, k in sorted(seen.sensitive.items())]
        parts.append(f"sensitive data: {_shown(shown)}")
    extra = sorted(p for p in seen.undeclared if p not in seen.sensitive)
    if extra:
        parts.append(f"fields the response schema does not declare: {_shown(extra)}")
    closed = any(seen.undeclared.values())
    return Issue(
        f"{op.key} answers ({', '.join(seen.identities)}) with " + "; ".join(parts),
        operation=op,
        exchanges=seen.evidence[:2],
        identity=seen.identities[0],
        confidence="certain" if seen.sensitive else ("firm" if closed else "tentative"),
        severity=None if seen.sensitive else Severity.LOW,
    )
