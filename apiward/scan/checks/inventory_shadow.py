"""API9: endpoints the spec does not list, still answering: old versions, debug pages.

Three sources of candidate paths, all relative to the target's base: the
well-known leftovers of :func:`~apiward.scan.payloads.shadow_paths`; version
siblings of documented paths (``/v2/users`` -> ``/v1/users``, ``/users`` ->
``/api/v1/users``); and the target's own base path in another version. Only
GET is sent. First the server's answer to paths that cannot exist is learnt,
so a catch-all (an SPA's ``index.html``, a ``200 {"error": ...}``) never
counts as found.
"""

from __future__ import annotations

import asyncio
import difflib
import re
import secrets
from dataclasses import dataclass
from urllib.parse import urlsplit

from apiward.core import Owasp, Router, Severity
from apiward.scan import detect, payloads
from apiward.scan.check import Issue, check
from apiward.scan.context import ScanContext
from apiward.scan.http import Exchange
from apiward.scan.identity import Identity

__all__ = ["base_siblings", "shadow_endpoint", "version_siblings"]

_VERSION = re.compile(r"^v(\d{1,3})$", re.I)
_COLLECTIONS = 8
_MAX_CANDIDATES = 500
_BATCH = 16
# documentation, not an endpoint: reported by nobody (the spec itself is public by design)
_DOCS = re.compile(
    r"(^|/)(openapi|swagger)(\.json|\.ya?ml)?$|api-docs|(^|/)(docs|redoc|swagger-ui)(/|\.html)?$",
    re.I,
)
# GETs that act: never sent with a user's credentials
_ACTS = re.compile(r"logout|log-out|signout|sign-out|delete|remove|reset|purge|revoke", re.I)


@dataclass(frozen=True, slots=True)
class _Shape:
    """What an answer looks like, with the requested path taken out of it."""

    status: int
    content_type: str
    text: str

    @classmethod
    def of(cls, answer: Exchange, path: str) -> _Shape:
        text = answer.text[:4000].replace(path, "").replace(path.strip("/"), "")
        return cls(answer.status, answer.content_type, text)

    def like(self, other: _Shape) -> bool:
        if self.status != other.status or self.content_type != other.content_type:
            return False
        if self.text == other.text:
            return True
        ratio = difflib.SequenceMatcher(None, self.text, other.text, autojunk=False).quick_ratio()
        return ratio > 0.9


def version_siblings(paths: list[str]) -> list[str]:
    """Paths of other API versions next to the documented ``paths`` (literal parts only).

    A version segment (``v2``) is swapped for its neighbours; without one, the
    usual version prefixes are put in front of the API's collections.
    """
    out: list[str] = []
    versioned = [p for p in paths if any(_VERSION.match(s) for s in p.split("/"))]
    for path in versioned:
        out += _swap_versions(_literal_prefix(path))
    if not versioned:
        for col in _collections(paths):
            out += [f"/api/v1{col}", f"/v1{col}", f"/api{col}"]
            if col.startswith("/api/"):
                out.append(f"/api/v1{col[4:]}")
    return [p for p in dict.fromkeys(out) if p]


def base_siblings(base: str, paths: list[str]) -> list[str]:
    """Host paths of the API's collections under other versions of the base path ``base``."""
    if not any(_VERSION.match(s) for s in base.split("/")):
        return []
    return [sib + col for sib in _swap_versions(base) for col in _collections(paths)]


def _collections(paths: list[str]) -> list[str]:
    """Literal collections of the API, the first segments before the longer ones."""
    firsts = [f"/{s[0]}" for p in paths if (s := _literals(p))]
    prefixes = [_literal_prefix(p) for p in paths]
    found = [c for c in dict.fromkeys(firsts + prefixes) if c and c != "/"]
    return found[:_COLLECTIONS]


def _literals(path: str) -> list[str]:
    out = []
    for seg in path.split("/"):
        if not seg:
            continue
        if "{" in seg:
            break
        out.append(seg)
    return out


def _literal_prefix(path: str) -> str:
    return "/" + "/".join(_literals(path)) if _literals(path) else ""


def _swap_versions(path: str) -> list[str]:
    segs = path.split("/")
    out = []
    for i, seg in enumerate(segs):
        match = _VERSION.match(seg)
        if match is None:
            continue
        n = int(match.group(1))
        for other in dict.fromkeys((n - 1, n + 1, 1)):
            if other >= 0 and other != n:
                out.append("/".join([*segs[:i], f"{seg[0]}{other}", *segs[i + 1 :]]))
    return out


@check(
    "shadow-endpoint",
    title="An undocumented endpoint answers",
    category=Owasp.API9,
    cwe=1059,
    severity=Severity.MEDIUM,
    remediation=(
        "Keep an inventory of every deployed route and compare it with the spec: remove old "
        "versions and debug endpoints from production, or document and protect them."
    ),
)
async def shadow_endpoint(ctx: ScanContext) -> None:
    """GETs well-known leftover paths and other API versions of documented paths.

    Paths the spec documents (any method) and the spec documents themselves are
    skipped. Each is asked anonymously, and again as one user when the anonymous
    answer was a 401/403 (only as the user when the API answers every anonymous
    request so). Fires, once per path, on a 2xx unlike the answer to a
    path that cannot exist; critical when it carries secrets or personal data
    without authentication.
    """
    router = Router(ctx.doc.operations)
    split = urlsplit(ctx.client.base_url)
    base = split.path.rstrip("/")
    paths = [op.path for op in ctx.doc.operations if op.method == "GET"]
    paths += [op.path for op in ctx.doc.operations]
    candidates = [*payloads.shadow_paths(), *version_siblings(paths)]
    candidates = [p if p.startswith("/") else "/" + p for p in candidates]
    # requests go relative to the target's base; other base versions as absolute URLs
    probes = [(p, p) for p in candidates if not router.allowed_methods(p) and not _DOCS.search(p)]
    host = f"{split.scheme}://{split.netloc}"
    probes += [(p, host + p) for p in base_siblings(base, paths)]
    probes = list(dict.fromkeys(probes))[:_MAX_CANDIDATES]
    user = next(iter(ctx.users()), None)
    misses = {ctx.anonymous.name: await _learn_not_found(ctx, ctx.anonymous)}
    if user is not None:
        misses[user.name] = await _learn_not_found(ctx, user)

    # an API that asks for credentials before routing tells anonymous callers nothing
    blind = all(m.status in (401, 403) for m in misses[ctx.anonymous.name])

    async def one(shown: str, target: str) -> None:
        found, gated = None, blind
        who = ctx.anonymous
        if not blind:
            found, gated = await _probe(ctx, target, ctx.anonymous, misses)
        if found is None and gated and user is not None and not _ACTS.search(shown):
            found, _ = await _probe(ctx, target, user, misses)
            who = user
        if found is not None:
            ctx.report(_issue(shown, found, who))

    for i in range(0, len(probes), _BATCH):
        await asyncio.gather(*(one(shown, target) for shown, target in probes[i : i + _BATCH]))


async def _probe(
    ctx: ScanContext, target: str, ident: Identity, misses: dict[str, list[_Shape]]
) -> tuple[Exchange | None, bool]:
    """The answer when it is a real endpoint's; and whether it asked for credentials."""
    answer = await ctx.send("GET", target, ident)
    gated = answer.status in (401, 403) and all(
        m.status != answer.status for m in misses[ident.name]
    )
    if not answer.ok or not answer.body.strip() or _is_spec(answer):
        return None, gated
    shape = _Shape.of(answer, urlsplit(target).path)
    if any(shape.like(m) for m in misses[ident.name]):
        return None, gated
    return answer, gated


async def _learn_not_found(ctx: ScanContext, ident: Identity) -> list[_Shape]:
    """How the server answers paths that cannot exist, at two depths."""
    shapes = []
    for path in (f"/{secrets.token_hex(6)}", f"/{secrets.token_hex(4)}/{secrets.token_hex(4)}"):
        answer = await ctx.send("GET", path, ident)
        shapes.append(_Shape.of(answer, path))
    return shapes


def _is_spec(answer: Exchange) -> bool:
    data = answer.json()
    if isinstance(data, dict):
        return "openapi" in data or "swagger" in data
    head = answer.text[:300].lower()
    return head.lstrip().startswith(("openapi:", "swagger:")) or "swagger-ui" in head


def _issue(path: str, answer: Exchange, who: Identity) -> Issue:
    sensitive = sorted({kind for kind, _ in detect.sensitive_values(answer.text)})
    if sensitive:
        severity = Severity.CRITICAL if who.anonymous else Severity.HIGH
    else:
        # health and version pages are the usual undocumented answers: inventory, not a leak
        severity = Severity.LOW
    access = "without authentication" if who.anonymous else f"to {who.name}"
    what = f"; it carries {', '.join(sensitive[:5])}" if sensitive else ""
    return Issue(
        f"GET {path} is not in the spec and answers {answer.status} {access}{what}",
        exchanges=[answer],
        identity=who.name,
        severity=severity,
        confidence="certain" if sensitive else "firm",
        path=path,
        key=path,
    )
