"""Scan checks: small async units registered by id, each reporting :class:`Issue` s.

A check is one async function over the :class:`~apiward.scan.context.ScanContext`,
decorated with :func:`check`; its docstring is its description. It calls the
API through the context and reports what it proves with ``ctx.report(Issue(...))``
as soon as it is proved, so a crash or an exhausted budget later loses nothing::

    @check("cors-any-origin", title="CORS allows any origin with credentials",
           category=Owasp.API8, cwe=942, severity=Severity.HIGH,
           remediation="Allow-list the origins that may call the API.")
    async def cors_any_origin(ctx: ScanContext) -> None:
        '''The API reflects an arbitrary Origin ...'''

``phase`` orders checks: READ checks run first and together, then WRITE, then
NOISY ones (bursts that may trip rate limits) one at a time, then DESTRUCTIVE
ones (deletes), which ``--safe`` skips.
"""

from __future__ import annotations

import enum
import inspect
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from apiward.core import Operation, Owasp, Registry, Severity
from apiward.scan.http import Exchange

if TYPE_CHECKING:
    from apiward.scan.context import ScanContext

__all__ = ["CHECKS", "Check", "Issue", "Phase", "check"]


class Phase(enum.IntEnum):
    READ = 0
    WRITE = 1
    NOISY = 2
    DESTRUCTIVE = 3


@dataclass(slots=True)
class Issue:
    """What a check proved. The first exchange is the one the ``curl`` reproduces.

    ``key`` tells apart two issues of one check on one operation (a parameter name,
    a path); ``operation`` is None for issues of the whole API (headers, CORS) or
    of an undocumented path (then ``path`` names it).
    """

    message: str
    operation: Operation | None = None
    exchanges: list[Exchange] = field(default_factory=list)
    identity: str | None = None
    confidence: str = "firm"  # certain | firm | tentative
    severity: Severity | None = None
    key: str = ""
    path: str | None = None
    notes: list[str] = field(default_factory=list)


CheckFunc = Callable[["ScanContext"], Awaitable[None]]


@dataclass(frozen=True, slots=True)
class Check:
    id: str
    title: str
    category: Owasp  # injection is filed under API8:2023, as the 2023 edition does
    cwe: int
    severity: Severity
    remediation: str
    description: str
    phase: Phase
    func: CheckFunc = field(repr=False)

    @property
    def destructive(self) -> bool:
        return self.phase is Phase.DESTRUCTIVE

    async def __call__(self, ctx: ScanContext) -> None:
        await self.func(ctx)


CHECKS: Registry[Check] = Registry("scan check")


def check(
    id: str,
    *,
    title: str,
    category: Owasp,
    cwe: int,
    severity: Severity,
    remediation: str,
    phase: Phase = Phase.READ,
) -> Callable[[CheckFunc], Check]:
    """Register the decorated async function as the scan check ``id``."""

    def decorate(func: CheckFunc) -> Check:
        doc = inspect.getdoc(func)
        if not doc:
            raise TypeError(f"scan check {id} needs a docstring: it is the check's description")
        unit = Check(id, title, category, cwe, severity, remediation, doc, phase, func)
        CHECKS.register(id, unit)
        return unit

    return decorate
