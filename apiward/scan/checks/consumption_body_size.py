"""API4: request bodies of any size are read and stored.

Tried on one text property of the caller's own object (a profile's display
name, an account's nickname), which is written back afterwards.
"""

from __future__ import annotations

import re
from typing import Any

from apiward.core import Owasp, Severity
from apiward.scan.check import Issue, Phase, check
from apiward.scan.checks.properties_targets import OwnTarget, candidates, read_view
from apiward.scan.context import ScanContext

_SIZE = 1024 * 1024
_MAX_TARGETS = 2
_TIMEOUT = 15.0
# identifiers and credentials: never overwritten, even for a moment
_AVOID = re.compile(
    r"(^|_)(id|uuid|key|slug|username|login|e?mail|phone|password|passwd|token|secret|role|"
    r"status|type|url|uri|currency|iban)(_|$)",
    re.I,
)


def _text_field(target: OwnTarget, view: dict[str, Any]) -> str | None:
    """A plain text property the request takes and the object shows (so it can be restored)."""
    props = target.schema.get("properties") or {}
    for name, schema in props.items():
        if not isinstance(schema, dict) or _AVOID.search(name) or schema.get("readOnly"):
            continue
        if schema.get("type") not in ("string", None) or "enum" in schema:
            continue
        if schema.get("format") not in (None, "", "text") or not isinstance(view.get(name), str):
            continue
        return str(name)
    return None


@check(
    "body-size-unbounded",
    title="Request bodies of any size are accepted",
    category=Owasp.API4,
    cwe=770,
    severity=Severity.MEDIUM,
    remediation=(
        "Cap request bodies at the server or gateway (413 over a limit of a few KiB to a "
        "MiB, per route), and enforce maxLength on every string the API stores."
    ),
    phase=Phase.WRITE,
)
async def body_size_unbounded(ctx: ScanContext) -> None:
    """Updates a text property of the caller's own object with a 1 MiB string.

    The body is otherwise a valid, no-op update. Fires when the API accepts it
    with 2xx; quiet when it answers 413 (or rejects the value with 400). The
    property's original value is written back afterwards. One issue for the API.
    """
    tried = 0
    for target in candidates(ctx, ("PATCH", "PUT"), prefer=1):
        if tried >= _MAX_TARGETS:
            return
        _read, view = await read_view(ctx, target)
        field = _text_field(target, view) if view is not None else None
        if view is None or field is None:
            continue
        tried += 1
        base = target.base_body(view, ctx.values)
        answer = await ctx.send(
            target.op.method, target.path, target.identity, operation=target.op,
            json_body={**base, field: "A" * _SIZE}, timeout=_TIMEOUT,
        )  # fmt: skip
        if answer.status == 413:
            return  # a size cap exists: the other routes are behind it too, most likely
        if not answer.ok:
            continue
        back = await ctx.send(
            target.op.method, target.path, target.identity, operation=target.op,
            json_body={**base, field: view[field]},
        )  # fmt: skip
        ctx.report(
            Issue(
                f"{target.op.key} accepted a {_SIZE // 1024} KiB string in {field!r} "
                f"({answer.status}): nothing caps the size of request bodies"
                + ("" if back.ok else f"; the original {field} could not be written back"),
                operation=target.op,
                exchanges=[answer],
                identity=target.identity.name,
                confidence="certain",
                key="request-body-size",
            )
        )
        return
