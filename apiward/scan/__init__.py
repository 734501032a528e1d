"""``apiward scan``: test a running API from its OpenAPI document, as several users.

The scan logs in as each configured identity, crawls the API to learn which
objects each one owns, then runs the registered checks (:data:`CHECKS`), each
proving one kind of flaw with real requests::

    from apiward.core import load
    from apiward.scan import ScanOptions, scan

    result = scan(load("openapi.yaml"), ScanOptions(target="http://127.0.0.1:8000"))
    for finding in result.findings:
        print(finding.severity.value, finding.title, finding.curl)

A check is one async function in :mod:`apiward.scan.checks` decorated with
:func:`check`; see :mod:`apiward.scan.check`.
"""

from apiward.scan import checks as _checks  # noqa: F401 - registers the built-in checks
from apiward.scan.canary import Canary
from apiward.scan.check import CHECKS, Check, Issue, Phase, check
from apiward.scan.context import ScanContext
from apiward.scan.engine import Progress, result_from_state, run_scan, scan
from apiward.scan.http import BudgetExhausted, Exchange
from apiward.scan.identity import Identity, LoginFailed
from apiward.scan.options import ScanOptions
from apiward.scan.result import CheckError, ScanResult
from apiward.scan.store import StateFile, finding_from_dict, finding_to_dict

__all__ = [
    "CHECKS",
    "BudgetExhausted",
    "Canary",
    "Check",
    "CheckError",
    "Exchange",
    "Identity",
    "Issue",
    "LoginFailed",
    "Phase",
    "Progress",
    "ScanContext",
    "ScanOptions",
    "ScanResult",
    "StateFile",
    "check",
    "finding_from_dict",
    "finding_to_dict",
    "result_from_state",
    "run_scan",
    "scan",
]
