"""Report per-operation gaps once when they are the API's convention, not a slip.

If most operations lack a 500 response, the root cause is one decision about
the whole API: 818 identical findings would bury it. :func:`per_operation`
yields one :class:`Hit` per affected operation when they are the exception, or
a single Hit at ``/paths`` (every affected operation as its usages) when they
are the majority.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence

from apiward.audit.rule import Hit
from apiward.core import Document, Location, Operation

__all__ = ["has_body", "per_operation", "response_keys"]


def per_operation(
    doc: Document,
    found: Sequence[tuple[Operation, str]],
    considered: int,
    summary: Callable[[str], str],
) -> Iterator[Hit]:
    """One Hit per ``(operation, message)``, or one ``summary(...)`` Hit for the majority.

    ``considered`` is how many operations the rule looked at. When more than
    half of them (and at least two) are affected, ``summary`` gets ``"all 12"``
    or ``"818 of 845"`` and words the single API-wide Hit.
    """
    count = len(found)
    if count >= 2 and count * 2 > considered:
        usages = tuple(op.ref for op, _ in found)
        share = f"all {count}" if count == considered else f"{count} of {considered}"
        yield Hit(Location(doc.uri, "/paths"), summary(share), usages=usages)
        return
    for op, message in found:
        yield Hit(op.location, message)


def response_keys(op: Operation) -> set[str]:
    """The operation's response keys, upper-cased (``4XX``, ``DEFAULT``, ``404``)."""
    return {status.upper() for status in op.responses}


def has_body(op: Operation, status: str) -> bool:
    """Whether the response declared under ``status`` (any case) has content."""
    return any(
        key.upper() == status.upper() and bool(response.content)
        for key, response in op.responses.items()
    )
