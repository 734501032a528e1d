"""API10 unsafe consumption of APIs: data from an upstream the API trusts, used unchecked.

Where an operation makes the API fetch a URL the scan controls (its URL inputs,
as in the SSRF check), the canary serves a poisoned upstream answer: a JSON list
(then an object wrapping one) of objects shaped like the kind the operation is
about (``/partner/merchants/sync`` -> the ``Merchant`` schema), whose text
fields hold

- SQL expressions that compute a product when executed: ``' || (a*b) || '``
  (SQLite, PostgreSQL, Oracle) and ``' + CAST(a*b AS CHAR(20)) + '``
  (SQL Server, SQLite, MySQL without strict mode);
- a value longer than the schema's ``maxLength``, and a string where the schema
  wants a number;
- a plain value, which shows that the objects are stored and where to read them.

The API's own read operations (searches, listings of that kind) then show what
was stored: a computed product proves the upstream data ran as SQL; an
oversized or mistyped value proves nothing validated it. When the objects are
stored but no product shows, a second feed tries MySQL's adjacent literals
(``x' 'y`` stored as ``xy``), which the other databases refuse. A database
error in the consuming operation's answer counts as well.
"""

from __future__ import annotations

import json
import random
import re
import secrets
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from typing import Any

from apiward.core import Location, Operation, Owasp, Schema, Severity
from apiward.scan.check import Issue, Phase, check
from apiward.scan.checks.injection_points import (
    Point,
    Target,
    caller,
    each_target,
    inject,
    point_issue,
)
from apiward.scan.checks.ssrf import URL_WAIT, url_points
from apiward.scan.context import ScanContext
from apiward.scan.detect import sql_error
from apiward.scan.http import Exchange
from apiward.scan.resources import singular
from apiward.scan.values import body_schema, inline, response_schema

__all__: list[str] = []

_MAX_READERS = 3
_MAX_OVERSIZE = 4096
_VERBS = frozenset(
    {"sync", "synchronize", "import", "imports", "refresh", "pull", "fetch", "feed", "feeds"}
    | {"load", "reload", "update", "ingest", "webhook", "webhooks", "callback", "callbacks"}
    | {"run", "trigger", "upload"}
)
_SEARCH = re.compile(r"^(q|query|search|term|keyword|keywords|filter|name|text)$", re.I)
_LABEL = re.compile(r"name|title|label", re.I)
_RAN = "the upstream values ran as SQL"
_LONG = "values over the schema's maxLength were stored"
_TYPE = "strings were stored where numbers belong"
_STORED = "stored"  # the plain object came back: not a flaw, a sign the feed is read


@dataclass(slots=True)
class _Poison:
    """Poisoned upstream objects, and the traces that show each flaw once they are stored."""

    tag: str
    ran: tuple[str, ...]  # what only executed SQL stores (inside a stored value)
    ran_alone: tuple[str, ...] = ()  # ... or as the whole stored value
    items: list[dict[str, Any]] = field(default_factory=list)
    limits: dict[str, int] = field(default_factory=dict)  # field -> the maxLength exceeded
    numeric: set[str] = field(default_factory=set)  # fields sent a string instead of a number
    terms: list[str] = field(default_factory=list)  # what to search for

    def feed(self, kind: str | None, wrapped: bool) -> bytes:
        if not wrapped:
            return json.dumps(self.items).encode()
        keys = {"items", "data", "results", *([kind + "s", kind] if kind else [])}
        return json.dumps({k: self.items for k in sorted(keys)}).encode()

    def traces(self, answer: Exchange) -> dict[str, dict[str, str]]:
        """What ``answer`` shows of these objects: by proof, field -> value."""
        found: dict[str, dict[str, str]] = {}
        for key, value in _scalars(answer.json()):
            text = str(value)
            if any(mark in text for mark in self.ran) or text in self.ran_alone:
                found.setdefault(_RAN, {}).setdefault(key, text[:60])
            elif key in self.limits and text.startswith(f"{self.tag}d"):
                if len(text) > self.limits[key]:
                    found.setdefault(_LONG, {})[key] = f"{len(text)} characters"
            elif key in self.numeric and text == f"{self.tag}e":
                found.setdefault(_TYPE, {})[key] = text
            elif text == f"{self.tag}c":
                found.setdefault(_STORED, {})[key] = text
        return found


@dataclass(frozen=True, slots=True)
class _Shape:
    """What the upstream objects look like: their properties and the one that names them."""

    props: dict[str, dict[str, Any]]
    texts: list[str]
    label: str

    @classmethod
    def of(cls, schema: dict[str, Any]) -> _Shape:
        props = {
            k: s for k, s in (schema.get("properties") or {}).items()
            if isinstance(s, dict) and not s.get("readOnly") and k.lower() not in ("id", "uuid")
        } or {"name": {"type": "string"}}  # fmt: skip
        texts = [k for k, s in props.items() if s.get("type", "string") == "string"]
        texts = [k for k in texts if "enum" not in props[k]]
        label = next((k for k in texts if _LABEL.search(k)), texts[0] if texts else "name")
        return cls(props, texts, label)


def _numbers() -> tuple[int, int]:
    return random.randint(1013, 9973), random.randint(1013, 9973)


def _poison(ctx: ScanContext, shape: _Shape) -> _Poison:
    tag = f"apw{secrets.token_hex(3)}"
    (a, b), (c, d) = _numbers(), _numbers()
    # ' + ... + ' adds numbers in SQLite and MySQL (the product alone) and joins text in
    # SQL Server (after the tag, CHAR-padded)
    poison = _Poison(
        tag, (f"{tag}a{a * b}", f"{tag}b{c * d}"), (str(c * d),), terms=[tag, str(c * d)]
    )

    def item(values: dict[str, Any]) -> dict[str, Any]:
        out = {k: ctx.values.value(s, k) for k, s in shape.props.items()}
        out.update(values)
        return out

    # the plain, oversized and mistyped objects first: an SQL error on the others may
    # end the import, and these show it was read
    poison.items.append(item({shape.label: f"{tag}c"}))
    size = shape.props.get(shape.label, {}).get("maxLength")
    if isinstance(size, int) and size + 100 <= _MAX_OVERSIZE:
        poison.items.append(item({shape.label: f"{tag}d" + "x" * (size + 100)}))
        poison.limits[shape.label] = size
    numbers = [k for k, s in shape.props.items() if s.get("type") in ("integer", "number")]
    if numbers:
        poison.items.append(item({shape.label: f"{tag}e", **{k: f"{tag}e" for k in numbers}}))
        poison.numeric.update(numbers)
    poison.items.append(item({k: f"{tag}a' || ({a}*{b}) || '" for k in shape.texts}))
    poison.items.append(item({k: f"{tag}b' + CAST({c}*{d} AS CHAR(20)) + '" for k in shape.texts}))
    return poison


def _mysql_poison(ctx: ScanContext, shape: _Shape) -> _Poison:
    """MySQL joins adjacent literals: ``x' 'y`` is stored as ``xy`` only when it ran as SQL."""
    tag = f"apw{secrets.token_hex(3)}"
    poison = _Poison(tag, (f"{tag}m{tag}n",), terms=[tag])
    values = {k: ctx.values.value(s, k) for k, s in shape.props.items()}
    values.update({k: f"{tag}m' '{tag}n" for k in shape.texts})
    poison.items.append(values)
    return poison


def _scalars(node: Any, key: str = "", depth: int = 0) -> Iterator[tuple[str, Any]]:
    if depth > 6:
        return
    if isinstance(node, dict):
        for k, v in node.items():
            yield from _scalars(v, str(k), depth + 1)
    elif isinstance(node, list):
        for v in node[:200]:
            yield from _scalars(v, key, depth + 1)
    else:
        yield key, node


def _kinds(op: Operation) -> list[str]:
    literals = [s for s in op.path.split("/") if s and not s.startswith("{")]
    return [singular(s) for s in reversed(literals) if s.lower() not in _VERBS]


def _item_schema(ctx: ScanContext, kinds: list[str]) -> tuple[str | None, dict[str, Any]]:
    """The schema of the objects the upstream sends: a component named like the kind."""
    components = (ctx.doc.raw.get("components") or {}).get("schemas") or {}
    for kind in kinds:
        for name in components:
            if singular(str(name)).lower().replace("_", "") == kind.replace("_", ""):
                loc = Location(ctx.doc.uri, f"/components/schemas/{name}")
                return kind, inline(ctx.doc, Schema(components[name], loc))
    return (kinds[0] if kinds else None), {}


def _readers(ctx: ScanContext, kinds: list[str]) -> list[tuple[Operation, str | None]]:
    """GET operations that may show stored objects: searches first, then listings of the kind."""
    found: list[tuple[int, Operation, str | None]] = []
    for op in ctx.operations("GET"):
        if "{" in op.path or ctx.is_admin_operation(op):
            continue
        if response_schema(ctx.doc, op, 200) is None:
            continue
        search = next(
            (p.name for p in op.parameters if p.param_in == "query" and _SEARCH.match(p.name)),
            None,
        )
        about = any(k in op.path.lower() for k in kinds)
        if search is not None or about:
            found.append((0 if search and about else 1 if search else 2, op, search))
    found.sort(key=lambda f: f[0])
    return [(op, search) for _, op, search in found[:_MAX_READERS]]


async def _read_back(
    ctx: ScanContext, readers: list[tuple[Operation, str | None]], poison: _Poison
) -> tuple[dict[str, dict[str, str]], list[Exchange]]:
    """What the readers show of ``poison``, and the answers that show a flaw."""
    traces: dict[str, dict[str, str]] = {}
    shown: list[Exchange] = []
    for op, search in readers:
        reader = await caller(ctx, op)
        if reader is None:
            continue
        for term in poison.terms if search else [None]:
            answer = await ctx.call(op, reader.identity, query={search: term} if search else None)
            if answer is None or not answer.ok:
                continue
            seen = poison.traces(answer)
            for proof, fields in seen.items():
                kept = traces.setdefault(proof, {})
                kept.update({k: v for k, v in fields.items() if k not in kept})
            if set(seen) - {_STORED}:
                shown.append(answer)
    return traces, shown


def _describe(traces: dict[str, dict[str, str]]) -> list[str]:
    out = []
    for proof in (_RAN, _LONG, _TYPE):
        fields = traces.get(proof)
        if fields:
            shown = ", ".join(f"{k} = {v!r}" for k, v in list(fields.items())[:3])
            out.append(f"{proof} ({shown})")
    return out


def _minimal(ctx: ScanContext, target: Target) -> Target:
    """``target`` with only the required body fields: optional filters could drop the feed."""
    found = body_schema(ctx.doc, target.op)
    if not isinstance(target.body, dict) or found is None:
        return target
    required = set(found[1].get("required") or [])
    return replace(target, body={k: v for k, v in target.body.items() if k in required})


@dataclass(slots=True)
class _Round:
    answer: Exchange
    traces: dict[str, dict[str, str]]
    shown: list[Exchange]


async def _serve(
    ctx: ScanContext,
    target: Target,
    point: Point,
    feed: bytes,
    poison: _Poison,
    readers: list[tuple[Operation, str | None]],
) -> _Round | None:
    """Point ``point`` at a canary serving ``feed``, then read back; None when not fetched."""
    assert ctx.canary is not None
    token, url = ctx.canary.url("feed", answer=(200, feed, "application/json"))
    answer = await inject(ctx, target, point, url)
    if answer is None or not await ctx.canary.wait(token, URL_WAIT):
        return None
    traces, shown = await _read_back(ctx, readers, poison)
    error = sql_error(answer.text)
    if error is not None and not sql_error(target.baseline.text):
        traces.setdefault(_RAN, {})["(the answer)"] = f"a database error: {error[:60]}"
    return _Round(answer, traces, shown)


async def _one(ctx: ScanContext, target: Target) -> None:
    kinds = _kinds(target.op)
    kind, schema = _item_schema(ctx, kinds)
    shape = _Shape.of(schema)
    readers = _readers(ctx, kinds)
    target = _minimal(ctx, target)
    for point in url_points(ctx, target.op):
        for wrapped in (False, True):
            poison = _poison(ctx, shape)
            found = await _serve(ctx, target, point, poison.feed(kind, wrapped), poison, readers)
            if found is None:
                break  # this input is not fetched: try the next one
            if _RAN not in found.traces and _STORED in found.traces:
                mysql = _mysql_poison(ctx, shape)
                again = await _serve(ctx, target, point, mysql.feed(kind, wrapped), mysql, readers)
                if again is not None and _RAN in again.traces:
                    again.traces.update({k: v for k, v in found.traces.items() if k != _RAN})
                    found = again
            if set(found.traces) - {_STORED}:
                ctx.report(_issue(target, point, found))
                return
            if _STORED in found.traces:
                break  # the feed was read and stored as it came, safely


def _issue(target: Target, point: Point, found: _Round) -> Issue:
    traces = _describe(found.traces)
    exchanges = [found.answer, *found.shown]
    return point_issue(
        target,
        point,
        f"{target.op.key} consumes data fetched from the URL in {point.label} without "
        f"validating it: {'; '.join(traces)}",
        exchanges,
        severity=Severity.CRITICAL if _RAN in found.traces else Severity.MEDIUM,
        notes=["the consuming request (the canary served the poisoned data)"]
        + ["read back through the API"] * (len(exchanges) - 1),
    )


@check(
    "unsafe-consumption",
    title="Upstream API data is used without validation",
    category=Owasp.API10,
    cwe=20,
    severity=Severity.HIGH,
    remediation=(
        "Treat data from partners and other upstream APIs as untrusted input: validate it "
        "against a strict schema (types, sizes, characters), bind it as query parameters, "
        "and only fetch from configured upstream URLs over TLS."
    ),
    phase=Phase.WRITE,
)
async def unsafe_consumption(ctx: ScanContext) -> None:
    """Makes the API fetch poisoned upstream data from the scan's canary, then reads it back.

    Only where an input makes the API fetch a URL the scan gives. The canary
    serves objects of the operation's kind whose text holds SQL computing a
    product (MySQL's adjacent literals in a second feed), plus an oversized value
    and a string where a number belongs. Fires when the API's searches or
    listings show the computed product (the data ran as SQL: critical), or the
    oversized or mistyped value (stored unvalidated), or when the consuming
    answer quotes a database error.
    """
    if ctx.canary is None:
        return
    ops = [op for op in ctx.operations() if op.method != "DELETE" and url_points(ctx, op)]
    await each_target(ctx, ops, _one)
