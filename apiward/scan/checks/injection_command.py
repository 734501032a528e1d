"""OS command injection: an input pasted into a shell command line.

Output first (cheap, one request per payload): shell separators followed by
``id`` or by an ``echo`` of a product computed by the shell; the answer must
then hold ``uid=…`` or the product, which the payload itself does not contain.
Timing only after that, on the few inputs whose name says host, address or
command: ``sleep 2`` must delay the answer, ``sleep 0`` must not, and a second
``sleep 2`` must delay it again.
"""

from __future__ import annotations

import random
import re
from collections.abc import Callable

from apiward.core import Owasp, Severity
from apiward.scan.check import Phase, check
from apiward.scan.checks.injection_points import (
    Point,
    Target,
    base_value,
    delayed,
    each_target,
    inject,
    point_issue,
    points,
    writes_with_points,
)
from apiward.scan.context import ScanContext
from apiward.scan.http import Exchange

__all__: list[str] = []

_MAX_POINTS = 3
_DELAY = 2.0
# where a command line is the likely destination
_RANK = re.compile(
    r"host|^ip$|ip_?addr|addr|domain|server|target|cmd|command|exec|shell|ping|dns|lookup"
    r"|args?$|options?$|file|path|dir|folder|url|name",
    re.I,
)
_TIMED = re.compile(r"host|^ip$|ip_?addr|addr|domain|server|cmd|command|exec|shell|ping|dns", re.I)
_ID_OUTPUT = re.compile(r"uid=\d+\([^)\s]*\)\s+gid=\d+")
_SEPARATORS: tuple[Callable[[str, str], str], ...] = (
    lambda v, c: f"{v};{c}",
    lambda v, c: f"{v}|{c}",
    lambda v, c: f"{v}`{c}`",
    lambda v, c: f"{v}$({c})",
    lambda v, c: f"{v}\n{c}",
)


def _product_payload() -> tuple[str, str]:
    a, b = random.randint(1000, 9999), random.randint(1000, 9999)
    tag = f"apw{random.randint(100, 999)}x"
    return f"echo {tag}$(({a}*{b}))", f"{tag}{a * b}"


def _proof(answer: Exchange, baseline: Exchange, marker: str | None) -> str | None:
    if marker is not None:
        return marker if marker in answer.text and marker not in baseline.text else None
    found = _ID_OUTPUT.search(answer.text)
    if found and not _ID_OUTPUT.search(baseline.text):
        return found.group(0)
    return None


async def _by_output(ctx: ScanContext, target: Target, point: Point) -> tuple[Exchange, str] | None:
    """``id`` after each separator, then a computed ``echo``: every form for inputs named like
    hosts or commands, the two most common (``;`` and ``$()``) for any other string."""
    value = base_value(ctx, target, point)
    strong = _TIMED.search(point.leaf) is not None
    wraps = _SEPARATORS[:4] if strong else (_SEPARATORS[0], _SEPARATORS[3])
    for wrap in wraps:
        answer = await inject(ctx, target, point, wrap(value, "id"))
        if answer is not None and (seen := _proof(answer, target.baseline, None)):
            return answer, seen
    if not strong:
        return None
    command, marker = _product_payload()
    for wrap in (_SEPARATORS[0], _SEPARATORS[4]):
        answer = await inject(ctx, target, point, wrap(value, command))
        if answer is not None and (seen := _proof(answer, target.baseline, marker)):
            return answer, seen
    return None


async def _by_time(ctx: ScanContext, target: Target, point: Point) -> list[Exchange] | None:
    value = base_value(ctx, target, point)
    for wrap in _SEPARATORS[:4]:

        async def send(seconds: float, wrap: Callable[[str, str], str] = wrap) -> Exchange | None:
            return await inject(ctx, target, point, wrap(value, f"sleep {seconds:g}"))

        proof = await delayed(send, _DELAY)
        if proof is not None:
            return proof
    return None


async def _one(ctx: ScanContext, target: Target) -> None:
    candidates = points(ctx, target.op, rank=_RANK)[:_MAX_POINTS]
    for point in candidates:
        found = await _by_output(ctx, target, point)
        if found is not None:
            answer, seen = found
            ctx.report(
                point_issue(
                    target,
                    point,
                    f"{target.op.key} runs {point.label} in a shell: the answer shows "
                    f"{seen!r} from the injected command",
                    [answer],
                )
            )
            return
    for point in (p for p in candidates if _TIMED.search(p.leaf)):
        timed = await _by_time(ctx, target, point)
        if timed is not None:
            ctx.report(
                point_issue(
                    target,
                    point,
                    f"{target.op.key} runs {point.label} in a shell: an injected "
                    f"'sleep {_DELAY:g}' delays the answer (twice), 'sleep 0' does not",
                    timed,
                    confidence="firm",
                    notes=[
                        f"answered in {timed[0].elapsed:.2f} s",
                        f"answered in {timed[1].elapsed:.2f} s",
                        f"answered in {timed[2].elapsed:.2f} s",
                    ],
                )
            )
            return


@check(
    "command-injection",
    title="An input reaches an operating-system shell (command injection)",
    category=Owasp.API8,
    cwe=78,
    severity=Severity.CRITICAL,
    remediation=(
        "Do not build shell command lines from input: call the program directly with an "
        "argument list (no shell), and validate the value strictly (a host name, an IP "
        "address) before using it."
    ),
    phase=Phase.WRITE,
)
async def command_injection(ctx: ScanContext) -> None:
    """Appends shell commands to string inputs (host, address, file and command names first).

    Inputs named like hosts or commands get ``;id``, ``|id``, backticks, ``$()``
    and an ``echo`` of a product the shell computes; other strings get ``;id`` and
    ``$(id)``. Fires when the answer holds ``uid=…`` or that product (which the
    payload does not contain, and the normal answer does not hold). Host and
    command inputs then get ``sleep 2``: fires when it delays the answer twice
    while ``sleep 0`` does not.
    """
    await each_target(ctx, writes_with_points(ctx), _one)
