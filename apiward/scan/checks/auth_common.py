"""Helpers the authentication checks share: comparing views, swapping a token, volatile parts.

No check lives here. "The owner's view" is what the crawl got for an operation
as the identity that may call it (``ctx.seen``); an answer counts as the same
view when it is 2xx and has the same shape (JSON keys, or list items' keys), so
a 200 that is really an error or login page is not taken for access.
"""

from __future__ import annotations

import re
from typing import Any

from apiward.core import Operation
from apiward.scan.context import ScanContext
from apiward.scan.http import Exchange
from apiward.scan.identity import Identity

__all__ = [
    "Credentials",
    "anonymous_answer",
    "distinct_pairs",
    "normalized",
    "owner_views",
    "same_view",
    "shows",
    "with_token",
]

Credentials = tuple[dict[str, str], dict[str, str], dict[str, str]]

_VOLATILE = re.compile(
    r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?"  # timestamps
    r"|[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"  # uuids
    r"|\b[0-9a-f]{16,}\b"  # request ids, hashes
    r"|\b\d+(\.\d+)?\b",  # counters, durations, ids
    re.I,
)


def _shape(data: Any) -> Any:
    if isinstance(data, dict):
        return ("object", frozenset(data))
    if isinstance(data, list):
        first = next((item for item in data if item is not None), None)
        return ("list", None if first is None else _shape(first))
    return (type(data).__name__,)


def same_view(answer: Exchange, view: Exchange) -> bool:
    """``answer`` shows what ``view`` (the owner's answer) showed: 2xx and the same shape.

    An empty list is not the owner's view of a non-empty one: a listing filtered
    down to nothing leaks nothing.
    """
    if not (answer.ok and view.ok):
        return False
    if answer.body == view.body:
        return bool(answer.body)
    got, want = answer.json(), view.json()
    if got is None or want is None:
        if got is not None or want is not None or answer.content_type != view.content_type:
            return False
        # neither is JSON: an HTML login page instead of a document differs this much
        low, high = sorted((len(answer.body), len(view.body)))
        return high > 0 and low / high > 0.8 and "html" not in answer.content_type
    if isinstance(want, list) and want and not got:
        return False
    return bool(want) and _shape(got) == _shape(want)


def distinct_pairs(view: Exchange, other: Exchange) -> set[tuple[str, str]]:
    """Top-level scalar (key, value) pairs of ``view`` that ``other`` does not share."""
    a, b = view.json(), other.json()
    if not isinstance(a, dict) or not isinstance(b, dict):
        return set()
    return {
        (k, repr(v))
        for k, v in a.items()
        if isinstance(v, str | int | float | bool) and b.get(k) != v
    }


def shows(answer: Exchange, whose: Exchange, instead_of: Exchange) -> bool:
    """``answer`` is ``whose`` view, not ``instead_of`` 's (e.g. the admin's, not alice's)."""
    want = distinct_pairs(whose, instead_of)
    other = distinct_pairs(instead_of, whose)
    data = answer.json()
    if not want or not isinstance(data, dict):
        return False
    got = {(k, repr(v)) for k, v in data.items() if isinstance(v, str | int | float | bool)}
    return len(got & want) * 2 >= len(want) and not got & other


def normalized(answer: Exchange, *echoed: str) -> tuple[int, str]:
    """Status and body with volatile parts (times, ids, numbers, echoed input) blanked."""
    text = answer.text
    for value in sorted((e for e in echoed if e), key=len, reverse=True):
        text = text.replace(value, "<input>")
    return answer.status, _VOLATILE.sub("<v>", text)


def with_token(ident: Identity, token: str) -> Credentials | None:
    """``ident`` 's credentials with its bearer token replaced by ``token``; None without one."""
    if not ident.token:
        return None
    headers, cookies, query = ident.credentials()
    replaced = False
    for place in (headers, cookies, query):
        for key, value in place.items():
            if ident.token in value:
                place[key] = value.replace(ident.token, token)
                replaced = True
    return (headers, cookies, query) if replaced else None


def owner_views(ctx: ScanContext, op: Operation) -> list[tuple[Identity, Exchange]]:
    """The 2xx answers the crawl got for ``op``, ordinary users first, then admins."""
    out = []
    for ident in [*ctx.users(), *ctx.admins()]:
        seen = ctx.seen.get((op.key, ident.name))
        if seen is not None and seen.ok:
            out.append((ident, seen))
    return out


async def anonymous_answer(ctx: ScanContext, op: Operation, view: Exchange) -> Exchange:
    """What ``op`` answers without credentials, at the concrete path of ``view``.

    The crawl's anonymous answer when it asked the same thing, else one request.
    """
    seen = ctx.seen.get((op.key, ctx.anonymous.name))
    if seen is not None and seen.path == view.path:
        return seen
    query, headers = ctx.parameters(op)
    return await ctx.send(
        op.method, view.path, ctx.anonymous, operation=op, params=query, headers=headers,
        credentials=False,
    )  # fmt: skip
