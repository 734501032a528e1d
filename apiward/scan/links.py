"""Producer -> consumer links the spec and the answers state outright.

Names only suggest links (see :mod:`apiward.scan.resources`); these say them:
a ``Location`` header naming the new object's URL, and OpenAPI ``links`` that map
a response value (``$response.body#/ref``) to a parameter of another operation.
Both become objects of the right kind in the pool, owned by whoever made them.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import unquote, urljoin, urlsplit

from apiward.core import Document, Location, Operation, Router
from apiward.core import pointer as jp
from apiward.errors import ApiwardError
from apiward.scan.http import Exchange
from apiward.scan.resources import ResourcePool, kind_of_param

__all__ = ["LinkFollower"]


class LinkFollower:
    """Reads the links of one API's answers into a pool."""

    def __init__(self, doc: Document, target: str) -> None:
        self._doc = doc
        base = urlsplit(target).path.rstrip("/")
        self._router = Router(doc.operations, base_paths=[base] if base else None)
        self._by_id = {op.operation_id: op for op in doc.operations if op.operation_id}

    def follow(
        self, pool: ResourcePool, op: Operation, identity: str, answer: Exchange, *, owned: bool
    ) -> None:
        for target, params in (*self._location(answer), *self._links(op, answer)):
            for name, value in params.items():
                kind = kind_of_param(target, name)
                if kind is None or not isinstance(value, int | str) or isinstance(value, bool):
                    continue
                fields = {"id": value} if _names_an_id(name, kind) else {name: value}
                pool.add(kind, fields, op.key, identity, owned)

    def _location(self, answer: Exchange) -> list[tuple[Operation, dict[str, Any]]]:
        header = answer.headers.get("location")
        if not header:
            return []
        path = urlsplit(urljoin(answer.url, header)).path
        match = self._router.match("GET", path)
        if match is None:
            return []
        return [(match.operation, {k: unquote(v) for k, v in match.path_params.items()})]

    def _links(self, op: Operation, answer: Exchange) -> list[tuple[Operation, dict[str, Any]]]:
        response = op.responses.get(str(answer.status)) or op.responses.get(
            f"{answer.status // 100}XX"
        )
        if response is None:
            return []
        try:
            raw, _ = self._doc.resolve(self._doc.node(response.location), response.location)
        except ApiwardError:
            return []
        links = raw.get("links") if isinstance(raw, dict) else None
        out = []
        for name, link in (links or {}).items():
            try:
                link, _ = self._doc.resolve(
                    link,
                    Location(
                        response.location.file,
                        f"{response.location.pointer}/links/{jp.escape(name)}",
                    ),
                )
            except ApiwardError:
                continue
            op_id = link.get("operationId") if isinstance(link, dict) else None
            target = self._by_id.get(op_id) if isinstance(op_id, str) else None
            params = link.get("parameters") if isinstance(link, dict) else None
            if target is None or not isinstance(params, dict):
                continue
            values = {k: _evaluate(v, answer) for k, v in params.items()}
            out.append((target, {k: v for k, v in values.items() if v is not None}))
        return out


def _names_an_id(name: str, kind: str) -> bool:
    flat = name.lower().replace("_", "").replace("-", "")
    return flat in ("id", f"{kind.replace('_', '')}id", "uuid")


def _evaluate(expression: Any, answer: Exchange) -> Any:
    """A runtime expression of OpenAPI (the ``$response`` ones) against an answer."""
    if not isinstance(expression, str):
        return expression  # a constant
    if expression.startswith("$response.body#"):
        try:
            return jp.resolve(answer.json(), expression[len("$response.body#") :])
        except (KeyError, IndexError, TypeError, ValueError):
            return None
    if expression.startswith("$response.header."):
        return answer.headers.get(expression[len("$response.header.") :])
    return None if expression.startswith("$") else expression
