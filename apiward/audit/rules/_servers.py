"""Helpers shared by the server rules. Registers no rule.

A server URL may hold ``{variables}``; the scheme is checked against every
value a variable can take (its ``enum`` and ``default``), the host against
the default, since that is what clients use when they do not choose.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterator
from typing import Any

from apiward.core import Document, Location, OperationRef, Server
from apiward.core.source import LOOPBACK_HOSTS
from apiward.errors import RefError

__all__ = ["all_servers", "cleartext", "host_of", "is_loopback", "raw_server", "schemes_of"]

_URL = re.compile(r"^\s*(?:([^:/?#]*):)?//([^/?#]*)")
_VARIABLE = re.compile(r"\{([^{}]*)\}")
_MAX_EXPANSIONS = 64
_PLAIN = {"http": "plain HTTP", "ws": "unencrypted WebSocket (ws://)"}


def all_servers(doc: Document) -> Iterator[tuple[Server, tuple[OperationRef, ...]]]:
    """Each server declared at top level or on a path or operation, once, with its operations.

    A path-level list that every operation of the path overrides is not reached:
    no request can go there.
    """
    found: dict[Location, Server] = {s.location: s for s in doc.servers}
    users: dict[Location, list[OperationRef]] = {}
    for op in doc.operations:
        for server in op.servers:
            found.setdefault(server.location, server)
            users.setdefault(server.location, []).append(op.ref)
    for loc, server in found.items():
        yield server, tuple(users.get(loc, ()))


def raw_server(doc: Document, server: Server) -> dict[str, Any]:
    try:
        value = doc.node(server.location)
    except RefError:
        return {}
    return value if isinstance(value, dict) else {}


def _choices(server: Server, name: str, *, all_values: bool) -> list[str]:
    spec = server.variables.get(name)
    if not isinstance(spec, dict):
        return []
    out = []
    if isinstance(spec.get("default"), str | int):
        out.append(str(spec["default"]))
    if all_values and isinstance(spec.get("enum"), list):
        out.extend(str(v) for v in spec["enum"] if isinstance(v, str | int))
    return out


def _expand(text: str, server: Server, *, all_values: bool) -> list[str]:
    pieces = _VARIABLE.split(text)  # literal, name, literal, name, ..., literal
    names = pieces[1::2]
    if not names:
        return [text]
    options = [_choices(server, n, all_values=all_values) or ["{" + n + "}"] for n in names]
    out = []
    for combo in itertools.islice(itertools.product(*options), _MAX_EXPANSIONS):
        filled = list(pieces)
        filled[1::2] = combo
        out.append("".join(filled))
    return out


def schemes_of(server: Server) -> set[str]:
    """Every URL scheme (lower case) the server can use; empty for a relative URL."""
    match = _URL.match(server.url)
    if match is None or match.group(1) is None:
        return set()
    return {s.strip().lower() for s in _expand(match.group(1), server, all_values=True)}


def cleartext(server: Server) -> str | None:
    """How the server goes without TLS (``"uses plain HTTP"``), or None if it does not."""
    plain = [_PLAIN[s] for s in sorted(schemes_of(server)) if s in _PLAIN]
    if not plain:
        return None
    verb = "can use" if "{" in server.url.partition("://")[0] else "uses"
    return f"{verb} {' and '.join(plain)}"


def host_of(server: Server) -> str:
    """The host (no user info, no port) with variables at their defaults; lower case."""
    match = _URL.match(server.url)
    if match is None:
        return ""
    netloc = _expand(match.group(2), server, all_values=False)[0].rpartition("@")[2].lower()
    if netloc.startswith("["):
        return netloc.partition("]")[0] + "]"
    return netloc.partition(":")[0]


def is_loopback(host: str) -> bool:
    return (
        host in LOOPBACK_HOSTS
        or host == "0.0.0.0"  # noqa: S104 - a dev server's bind address, compared, not bound
        or host.startswith("127.")
        or host.endswith(".localhost")
    )
