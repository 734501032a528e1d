"""JSON Pointers (RFC 6901): every location in a document is addressable as one."""

from __future__ import annotations

from typing import Any

_MISSING = object()


def escape(token: str) -> str:
    return token.replace("~", "~0").replace("/", "~1")


def unescape(token: str) -> str:
    return token.replace("~1", "/").replace("~0", "~")


def join(pointer: str, *tokens: str | int) -> str:
    return pointer + "".join("/" + escape(str(t)) for t in tokens)


def split(pointer: str) -> list[str]:
    if not pointer:
        return []
    if not pointer.startswith("/"):
        raise ValueError(f"not a JSON pointer: {pointer!r}")
    return [unescape(t) for t in pointer[1:].split("/")]


def resolve(data: Any, pointer: str, default: Any = _MISSING) -> Any:
    """The value at ``pointer`` in ``data``; ``default`` (or KeyError) when absent."""
    node = data
    for token in split(pointer):
        if isinstance(node, dict):
            if token not in node:
                break
            node = node[token]
        elif isinstance(node, list) and token.isdigit() and int(token) < len(node):
            node = node[int(token)]
        else:
            break
    else:
        return node
    if default is _MISSING:
        raise KeyError(pointer)
    return default
